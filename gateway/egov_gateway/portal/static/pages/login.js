// Login through the gateway: IIN + password, then the one-time code sent by SMS.
import * as api from "../api.js";
import { h, add, field, announce, showFieldErrors } from "../ui.js";
import { t, lang } from "../i18n.js";

// The message of a refusal, in the reader's language where the portal knows the case.
export function problemText(err) {
  const type = (err && err.problem && err.problem.type) || "";
  if (type.endsWith("/sms-not-sent")) return t("sms_not_sent");
  return err.message;
}

// DEV MODE ONLY: the code a challenge just "sent" (no SMS leaves a dev machine). The gateway
// answers 404 outside dev mode, or for a challenge that sent no code: then nothing is shown.
// ``input``: the code field the "use this code" button fills.
export async function devBanner(challengeId, input) {
  let found = null;
  try {
    found = await api.call("GET", `/api/v1/dev/codes/${encodeURIComponent(challengeId)}`, { auth: false });
  } catch { return null; }
  if (!found || !found.code) return null;
  const value = h("output", { id: "dev-code-value", class: "dev-code" }, found.code);
  return h("aside", { class: "dev-banner", id: "dev-banner", role: "note", "aria-labelledby": "dev-banner-title" },
    h("strong", { id: "dev-banner-title" }, t("dev_banner_title")),
    h("p", {}, `${t("dev_banner_text")} ${found.sent_to}: `, value),
    input ? h("button", { type: "button", class: "secondary", id: "dev-code-use", onclick: () => { input.value = found.code; input.focus(); } }, t("dev_banner_use")) : null);
}

function after() {
  const next = sessionStorage.getItem("egov.after_login");
  sessionStorage.removeItem("egov.after_login");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/applications";
}

export async function render(root, _params, ctx) {
  const go = (href) => ctx.navigate(href, { replace: true });
  if (!root.querySelector("h1")) add(root, h("h1", {}, t("login_title")));
  const alert = h("div", { role: "alert", id: "login-error" });
  const iin = h("input", { name: "iin", type: "text", inputmode: "numeric", autocomplete: "username", pattern: "[0-9]{12}", maxlength: "12" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password" });
  const step1 = h("form", { class: "stack", id: "login-form", novalidate: true },
    field({ id: "login-iin", label: t("iin"), hint: t("iin_hint"), required: true, control: iin }),
    field({ id: "login-password", label: t("password"), required: true, control: password }),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "login-submit" }, t("continue"))));
  const area = h("div", {}, step1);
  add(root, alert, area);

  step1.addEventListener("submit", async (e) => {
    e.preventDefault();
    alert.textContent = "";
    const errors = {};
    if (!/^[0-9]{12}$/.test(iin.value.trim())) errors.iin = t("iin_hint");
    if (!password.value) errors.password = t("password");
    if (showFieldErrors(step1, errors)) return;
    const button = step1.querySelector("button");
    button.disabled = true;
    try {
      // the code is texted in the language the person reads the portal in
      const challenge = await api.call("POST", "/x/identity/auth/login", { body: { iin: iin.value.trim(), password: password.value, lang: lang() }, auth: false });
      await showOtp(challenge);
    } catch (err) {
      if (!showFieldErrors(step1, err.problem && err.problem.errors)) { alert.className = "alert"; alert.textContent = problemText(err); }
    } finally { button.disabled = false; }
  });

  async function showOtp(challenge) {
    const code = h("input", { name: "code", type: "text", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6" });
    const form = h("form", { class: "stack", id: "otp-form", novalidate: true },
      h("h2", { tabindex: "-1", id: "otp-heading" }, t("otp_title")),
      h("p", {}, `${t("otp_sent")} ${challenge.sent_to || ""}`),
      field({ id: "login-otp", label: t("otp"), required: true, control: code }),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "otp-submit" }, t("sign_in"))));
    area.replaceChildren(form);
    announce(`${t("otp_sent")} ${challenge.sent_to || ""}`);
    code.focus();
    const banner = await devBanner(challenge.challenge_id, code);
    if (banner) form.before(banner);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      alert.textContent = "";
      if (!/^[0-9]{4,8}$/.test(code.value.trim())) { showFieldErrors(form, { code: t("otp") }); return; }
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        await api.otp(challenge.challenge_id, code.value.trim());
        announce(t("logged_in"));
        const s = api.session();
        go(s && s.kind === "operator" && !sessionStorage.getItem("egov.after_login") ? "/operator" : after());
      } catch (err) {
        alert.className = "alert";
        alert.textContent = err.message;
        code.focus();
      } finally { button.disabled = false; }
    });
  }
}
