// Login through the gateway: IIN + password, then the one-time code sent by SMS.
import * as api from "../api.js";
import { h, add, field, announce, showFieldErrors } from "../ui.js";
import { t } from "../i18n.js";

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
      const challenge = await api.login(iin.value.trim(), password.value);
      showOtp(challenge);
    } catch (err) {
      if (!showFieldErrors(step1, err.problem && err.problem.errors)) { alert.className = "alert"; alert.textContent = err.message; }
    } finally { button.disabled = false; }
  });

  function showOtp(challenge) {
    const code = h("input", { name: "code", type: "text", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6" });
    const form = h("form", { class: "stack", id: "otp-form", novalidate: true },
      h("h2", { tabindex: "-1", id: "otp-heading" }, t("otp_title")),
      h("p", {}, `${t("otp_sent")} ${challenge.sent_to || ""}`),
      field({ id: "login-otp", label: t("otp"), required: true, control: code }),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "otp-submit" }, t("sign_in"))));
    area.replaceChildren(form);
    announce(`${t("otp_sent")} ${challenge.sent_to || ""}`);
    code.focus();
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
