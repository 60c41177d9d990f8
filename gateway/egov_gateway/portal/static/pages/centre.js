// Public service centre (ЦОН): an operator applies on a citizen's behalf, with the citizen's
// consent — a code texted to the citizen's own phone, which the citizen tells the operator.
// The consent is identity's token of the citizen naming this operator as the actor; the
// gateway's centre endpoint accepts it from this operator only, and the application is the
// citizen's (they see it among their applications, as made at a centre).
import * as api from "../api.js";
import { h, add, field, announce, showFieldErrors, clear } from "../ui.js";
import { t, lang } from "../i18n.js";
import { applyForm } from "./catalogue.js";
import { devBanner, problemText } from "./login.js";

const actorToken = () => (api.session() || {}).access;

export async function render(root, _params, ctx) {
  const s = api.session();
  add(root, h("h1", {}, t("centre_title")));
  if (!s || s.kind !== "operator") {
    add(root, h("p", { class: "notice" }, t("centre_only_operators")));
    return;
  }
  const alert = h("div", { role: "alert", id: "centre-error" });
  const area = h("div", { id: "centre-area" });
  add(root, h("p", {}, t("centre_intro")), alert, area);
  const fail = (err) => { alert.className = "alert"; alert.textContent = problemText(err); };
  const reset = () => { alert.textContent = ""; alert.className = ""; };

  // 1. the citizen's IIN → a consent code to the citizen's phone
  function askIin() {
    const iin = h("input", { name: "iin", type: "text", inputmode: "numeric", pattern: "[0-9]{12}", maxlength: "12", autocomplete: "off" });
    const form = h("form", { class: "stack", id: "centre-iin-form", novalidate: true },
      field({ id: "centre-iin", label: t("centre_citizen_iin"), hint: t("iin_hint"), required: true, control: iin }),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "centre-send" }, t("centre_send_code"))));
    area.replaceChildren(form);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      reset();
      if (!/^[0-9]{12}$/.test(iin.value.trim())) { showFieldErrors(form, { iin: t("iin_hint") }); return; }
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const challenge = await api.call("POST", "/x/identity/auth/centre/consent",
          { body: { iin: iin.value.trim(), actor_token: actorToken(), lang: lang() }, auth: false });
        await askCode(iin.value.trim(), challenge);
      } catch (err) {
        if (!showFieldErrors(form, err.problem && err.problem.errors)) fail(err);
      } finally { button.disabled = false; }
    });
    iin.focus();
  }

  // 2. the code the citizen tells the operator → the citizen's consent
  async function askCode(iin, challenge) {
    const code = h("input", { name: "code", type: "text", inputmode: "numeric", pattern: "[0-9]{6}", maxlength: "6", autocomplete: "off" });
    const form = h("form", { class: "stack", id: "centre-code-form", novalidate: true },
      h("p", { id: "centre-code-sent" }, `${t("centre_code_sent")} ${challenge.sent_to || ""}`),
      field({ id: "centre-code", label: t("centre_code"), required: true, control: code }),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "centre-confirm" }, t("centre_confirm"))));
    area.replaceChildren(form);
    announce(`${t("centre_code_sent")} ${challenge.sent_to || ""}`);
    code.focus();
    const banner = await devBanner(challenge.challenge_id, code);
    if (banner) form.before(banner);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      reset();
      if (!/^[0-9]{6}$/.test(code.value.trim())) { showFieldErrors(form, { code: t("centre_code") }); return; }
      const button = form.querySelector("button");
      button.disabled = true;
      try {
        const consent = await api.call("POST", "/x/identity/auth/centre/consent/answer",
          { body: { challenge_id: challenge.challenge_id, code: code.value.trim(), actor_token: actorToken() }, auth: false });
        await chooseService(iin, consent);
      } catch (err) { fail(err); code.focus(); } finally { button.disabled = false; }
    });
  }

  // 3. the citizen's name, the service, the catalogue's own form → submitted for the citizen
  async function chooseService(iin, consent) {
    const c = consent.citizen;
    const who = [c.surname, c.given_name, c.patronymic].filter(Boolean).join(" ");
    const services = api.items(await api.services({ citizen_facing: "true", lang: lang(), page_size: 100 }));
    const select = h("select", { name: "service" }, h("option", { value: "" }, "—"),
      services.map((svc) => h("option", { value: svc.code }, svc.name)));
    const formArea = h("div", { id: "centre-form-area" });
    const chooser = h("form", { class: "stack", id: "centre-service-form", novalidate: true },
      field({ id: "centre-service", label: t("centre_choose"), required: true, control: select }),
      h("div", { class: "actions" }, h("button", { type: "submit", id: "centre-open" }, t("centre_open_form"))));
    area.replaceChildren(
      h("p", { class: "centre-citizen", id: "centre-citizen" }, `${t("centre_consented")} `, h("strong", {}, who), ` (${c.iin})`),
      chooser, formArea);
    announce(`${t("centre_consented")} ${who}`);
    select.focus();
    chooser.addEventListener("submit", async (e) => {
      e.preventDefault();
      reset();
      if (!select.value) { showFieldErrors(chooser, { service: t("centre_choose") }); return; }
      clear(formArea);
      await applyForm(formArea, [select.value], {
        // the same form the citizen fills online, submitted through the centre with the consent
        submit: (service_code, payload) => api.call("POST", "/api/v1/centre/applications",
          { body: { consent_token: consent.consent_token, iin, service_code, payload } }),
        navigate: async () => done(who),
        // once-only: the citizen's own record (identity's, named with the consent), never the operator's
        record: async () => ({ iin: c.iin, surname: c.surname, given_name: c.given_name, patronymic: c.patronymic }),
      });
      const h1 = formArea.querySelector("h1");
      if (h1) h1.replaceWith(h("h2", {}, h1.textContent));  // one h1 a page
      const iinField = formArea.querySelector('input[name="iin"]');
      if (iinField) iinField.value = iin;  // the citizen at the desk, never the operator
    });
  }

  function done(who) {
    const next = h("button", { type: "button", id: "centre-next", onclick: () => { reset(); askIin(); } }, t("centre_next"));
    area.replaceChildren(h("p", { class: "notice", id: "centre-done", role: "status" }, `${t("centre_submitted")} (${who})`), next);
    announce(t("centre_submitted"));
    next.focus();
  }

  askIin();
}
