// The Unified Register: search in kk/ru/en, a service's card, and the form generated from its schema.
import * as api from "../api.js";
import { h, add, field, announce, showFieldErrors, money } from "../ui.js";
import { t, lang, fieldLabel } from "../i18n.js";

const PAGE_SIZE = 20;

function term(sla) {
  const units = { minutes: ["мин", "мин", "min"], hours: ["сағ", "ч", "h"], working_days: ["жұмыс күні", "раб. дн.", "working days"], calendar_days: ["күн", "дн.", "days"] };
  const i = { kk: 0, ru: 1, en: 2 }[lang()];
  return sla ? `${sla.amount} ${(units[sla.unit] || [sla.unit, sla.unit, sla.unit])[i]}` : "—";
}

function fee(svc) { return svc.fee && svc.fee.amount_tiyn ? money(svc.fee.amount_tiyn, lang()) : t("free"); }

export async function list(root, _params, ctx) {
  const params = new URLSearchParams(location.search);
  const q = params.get("q") || "";
  const kind = params.get("kind") || "";
  const page = Math.max(1, Number(params.get("page") || 1));
  const data = await api.services({ q, kind, lang: lang(), page, page_size: PAGE_SIZE, citizen_facing: "true" });
  const qInput = h("input", { name: "q", type: "search", value: q, autocomplete: "off" });
  const kindSelect = h("select", { name: "kind" },
    ["", "simple", "composite"].map((k) => h("option", { value: k, selected: k === kind }, k ? t(k) : t("any"))));
  const form = h("form", { class: "search", role: "search", id: "search-form" },
    field({ id: "service-q", label: t("search_label"), control: qInput }),
    field({ id: "service-kind", label: t("kind"), control: kindSelect }),
    h("div", { class: "field" }, h("button", { type: "submit" }, t("search"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const next = new URLSearchParams();
    if (qInput.value.trim()) next.set("q", qInput.value.trim());
    if (kindSelect.value) next.set("kind", kindSelect.value);
    ctx.navigate(`/services${next.toString() ? "?" + next : ""}`).then(() => announce(`${t("found")}: ${document.getElementById("results-count")?.dataset.total ?? 0}`));
  });
  const items = api.items(data);
  const total = data.total ?? items.length;
  add(root, 
    h("h1", {}, t("services_title")),
    form,
    h("p", { id: "results-count", "data-total": String(total) }, `${t("found")}: ${total}`),
    h("ul", { class: "cards", id: "services" }, items.map((svc) => h("li", { class: "card", "data-code": svc.code },
      h("h2", {}, h("a", { href: `/services/${encodeURIComponent(svc.code)}`, "data-link": "" }, svc.name)),
      h("p", { class: "meta" },
        h("span", { class: "tag" }, t(svc.kind)),
        h("span", {}, `${t("agency")}: ${svc.agency}`),
        h("span", {}, `${t("fee")}: ${fee(svc)}`),
        h("span", {}, `${t("term")}: ${term(svc.sla)}`)),
      h("p", {}, svc.description),
      h("p", {}, h("a", { class: "button", href: `/apply/${encodeURIComponent(svc.code)}`, "data-link": "", "aria-label": `${t("apply")}: ${svc.name}` }, t("apply")))))),
  );
  const pages = Math.ceil(total / PAGE_SIZE);
  if (pages > 1) {
    const link = (p, label) => { const n = new URLSearchParams(params); n.set("page", String(p)); return h("a", { href: `/services?${n}`, "data-link": "" }, label); };
    add(root, h("nav", { "aria-label": t("page"), class: "actions" },
      page > 1 ? link(page - 1, t("prev")) : null,
      h("span", {}, `${t("page")} ${page} / ${pages}`),
      page < pages ? link(page + 1, t("next")) : null));
  }
}

export async function detail(root, [code]) {
  const svc = await api.service(code, lang());
  add(root, 
    h("h1", {}, svc.name),
    h("p", {}, svc.description),
    h("dl", { class: "meta" },
      h("dt", {}, t("kind")), h("dd", {}, t(svc.kind)),
      h("dt", {}, t("agency")), h("dd", {}, svc.agency),
      h("dt", {}, t("fee")), h("dd", {}, fee(svc)),
      h("dt", {}, t("term")), h("dd", {}, term(svc.sla))),
    svc.steps && svc.steps.length ? [h("h2", {}, t("steps")), h("ol", {}, svc.steps.map((st) => h("li", {}, `${st.name} — ${st.operation}`)))] : null,
    h("p", {}, h("a", { class: "button", href: `/apply/${encodeURIComponent(svc.code)}`, "data-link": "" }, t("apply"))));
}

// -- a form from the service's JSON Schema --------------------------------------------------
function control(name, prop) {
  if (Array.isArray(prop.enum)) {
    return h("select", { name }, h("option", { value: "" }, "—"), prop.enum.map((v) => h("option", { value: String(v) }, fieldLabel(String(v)))));
  }
  if (prop.type === "boolean") return h("input", { name, type: "checkbox" });
  if (prop.type === "integer" || prop.type === "number") {
    return h("input", { name, type: "number", inputmode: "numeric", step: prop.type === "integer" ? "1" : "any", min: prop.minimum, max: prop.maximum });
  }
  if (prop.type === "array" || prop.type === "object") {
    return h("textarea", { name, rows: "4", spellcheck: "false", "data-json": "true" });
  }
  const attrs = { name, type: "text", maxlength: prop.maxLength, minlength: prop.minLength };
  if (prop.format === "date") attrs.type = "date";
  if (prop.format === "email") attrs.type = "email";
  if (prop.pattern) attrs.pattern = prop.pattern.replace(/^\^/, "").replace(/\$$/, "");
  if (prop.pattern === "^[0-9]{12}$") { attrs.inputmode = "numeric"; attrs.maxlength = "12"; }
  return h("input", attrs);
}

function readValue(el, prop) {
  if (el.type === "checkbox") return el.checked;
  const raw = el.value.trim();
  if (raw === "") return undefined;
  if (el.dataset.json) return JSON.parse(raw);
  if (prop.type === "integer") return Number.parseInt(raw, 10);
  if (prop.type === "number") return Number(raw);
  return raw;
}

export async function applyForm(root, [code], ctx) {
  const svc = await api.service(code, lang());
  const schema = svc.input_schema || {};
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const alert = h("div", { role: "alert", id: "apply-error" });
  const form = h("form", { class: "stack", id: "apply-form", novalidate: true, "data-service": svc.code },
    Object.entries(props).map(([name, prop]) => field({
      id: `f-${name}`, label: fieldLabel(name), required: required.has(name), control: control(name, prop),
      hint: prop.type === "array" || prop.type === "object" ? t("json_hint") : prop.pattern === "^[0-9]{12}$" ? t("iin_hint") : undefined,
    })),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "apply-submit" }, t("submit"))));
  add(root, h("h1", {}, `${t("apply_title")}: ${svc.name}`), h("p", { class: "notice" }, t("once_only")),
    h("p", { class: "meta" }, h("span", {}, `${t("fee")}: ${fee(svc)}`), h("span", {}, `${t("term")}: ${term(svc.sla)}`)), alert, form);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    alert.textContent = ""; alert.className = "";
    const payload = {};
    const errors = {};
    for (const [name, prop] of Object.entries(props)) {
      const el = form.elements.namedItem(name);
      try {
        const v = readValue(el, prop);
        if (v === undefined) { if (required.has(name)) errors[name] = `${fieldLabel(name)}: ${lang() === "en" ? "required" : lang() === "ru" ? "обязательно" : "міндетті"}`; }
        else payload[name] = v;
      } catch { errors[name] = t("json_hint"); }
      if (payload[name] !== undefined && el.pattern && typeof payload[name] === "string" && !new RegExp(`^(?:${el.pattern})$`).test(payload[name])) errors[name] = prop.description || el.pattern;
    }
    if (showFieldErrors(form, errors)) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const app = await api.apply(svc.code, payload);
      announce(t("submitted"));
      await ctx.navigate(`/applications/${encodeURIComponent(app.id)}`);
    } catch (err) {
      const fieldErrors = {};
      for (const [k, v] of Object.entries((err.problem && err.problem.errors) || {})) fieldErrors[k.replace(/^(body\.)?(payload\.)?/, "")] = v;
      const shown = showFieldErrors(form, fieldErrors);
      alert.className = "alert";
      alert.textContent = err.message + (shown ? "" : Object.entries(fieldErrors).map(([k, v]) => ` ${k}: ${v}`).join(";"));
    } finally { button.disabled = false; }
  });
}
