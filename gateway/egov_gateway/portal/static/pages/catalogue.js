// The Unified Register: search in kk/ru/en, a service's card, and the form generated from its
// input schema — checked in the browser before anything is sent (required, lengths, patterns,
// IIN/BIN check digits), lists edited row by row, and the applicant's own data filled in from
// their record (read-only, "from the state's records"): the state never asks what it holds.
import * as api from "../api.js";
import { h, add, field, announce, money } from "../ui.js";
import { t, lang, fieldLabel, valueText } from "../i18n.js";
import { idProblem } from "../ids.js";

const PAGE_SIZE = 20;

function term(sla) {
  const units = { minutes: ["мин", "мин", "min"], hours: ["сағ", "ч", "h"], working_days: ["жұмыс күні", "раб. дн.", "working days"], calendar_days: ["күн", "дн.", "days"] };
  const i = { kk: 0, ru: 1, en: 2 }[lang()];
  return sla ? `${sla.amount} ${(units[sla.unit] || ["", "", ""])[i]}` : "—";
}

function fee(svc) { return svc.fee && svc.fee.amount_tiyn ? money(svc.fee.amount_tiyn, lang()) : t("free"); }
function stepTitle(st) { return st.title ? (st.title[lang()] || st.title.en) : ""; }

export async function list(root, _params, ctx) {
  const params = new URLSearchParams(location.search);
  const q = params.get("q") || "";
  const kind = params.get("kind") || "";
  const page = Math.max(1, Number(params.get("page") || 1));
  const [data, agencyOf] = await Promise.all([
    api.services({ q, kind, lang: lang(), page, page_size: PAGE_SIZE, citizen_facing: "true" }),
    api.agencyName(lang()),
  ]);
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
        agencyOf(svc.agency) ? h("span", {}, `${t("agency")}: ${agencyOf(svc.agency)}`) : null,
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
  const [svc, agencyOf] = await Promise.all([api.service(code, lang()), api.agencyName(lang())]);
  const steps = (svc.steps || []).map(stepTitle).filter(Boolean);
  add(root,
    h("h1", {}, svc.name),
    h("p", {}, svc.description),
    h("dl", { class: "meta" },
      h("dt", {}, t("kind")), h("dd", {}, t(svc.kind)),
      agencyOf(svc.agency) ? [h("dt", {}, t("agency")), h("dd", {}, agencyOf(svc.agency))] : null,
      h("dt", {}, t("fee")), h("dd", {}, fee(svc)),
      h("dt", {}, t("term")), h("dd", {}, term(svc.sla))),
    svc.kind === "composite" && steps.length ? [h("h2", {}, t("steps")), h("ol", { id: "service-steps" }, steps.map((s) => h("li", {}, s)))] : null,
    h("p", {}, h("a", { class: "button", href: `/apply/${encodeURIComponent(svc.code)}`, "data-link": "" }, t("apply"))));
}

// -- a form from the service's JSON Schema --------------------------------------------------
// Each node knows how to read its value and check it; errors are keyed by the value's path
// (founders.0.id), the same paths the gateway's 422 problem uses.
const ID_FORMATS = new Set(["iin", "bin", "iin-or-bin"]);
const idOf = (path) => `f-${path.replace(/[^A-Za-z0-9_]+/g, "-")}`;

function hintOf(prop) {
  if (ID_FORMATS.has(prop.format)) return prop.format === "bin" ? `${fieldLabel("bin")}: ${t("iin_hint")}` : t("iin_hint");
  return undefined;
}

function checkString(value, prop) {
  if (ID_FORMATS.has(prop.format)) {
    const p = idProblem(value, prop.format);
    if (p === "length") return t("err_iin_length");
    if (p) return prop.format === "bin" ? t("err_bin_invalid") : t("err_iin_invalid");
    return null;
  }
  if (prop.maxLength && value.length > prop.maxLength) return `${t("err_too_long")} (≤ ${prop.maxLength})`;
  if (prop.minLength && value.length < prop.minLength) return `${t("err_too_short")} (≥ ${prop.minLength})`;
  if (prop.pattern && !new RegExp(prop.pattern, "u").test(value)) return t("err_pattern");
  if (Array.isArray(prop.enum) && !prop.enum.map(String).includes(value)) return t("err_range");
  return null;
}

function scalar(path, name, prop, required, prefill) {
  let control;
  if (Array.isArray(prop.enum)) {
    control = h("select", { name: path }, h("option", { value: "" }, "—"), prop.enum.map((v) => h("option", { value: String(v) }, valueText(String(v)))));
  } else if (prop.type === "boolean") {
    control = h("input", { name: path, type: "checkbox" });
  } else if (prop.type === "integer" || prop.type === "number") {
    control = h("input", { name: path, type: "number", inputmode: "numeric", step: prop.type === "integer" ? "1" : "any", min: prop.minimum ?? prop.exclusiveMinimum, max: prop.maximum });
  } else {
    const attrs = { name: path, type: "text", maxlength: prop.maxLength, autocomplete: "off" };
    if (prop.format === "date") attrs.type = "date";
    if (prop.format === "email") attrs.type = "email";
    if (ID_FORMATS.has(prop.format) || prop.pattern === "^[0-9]{12}$") { attrs.inputmode = "numeric"; attrs.maxlength = "12"; }
    control = h("input", attrs);
  }
  const fromRecord = prefill !== undefined && prefill !== null && prefill !== "";
  if (fromRecord) {
    control.value = String(prefill);
    control.readOnly = true;
    control.setAttribute("aria-readonly", "true");
    control.classList.add("from-records");
  }
  const id = idOf(path);
  const node = field({ id, label: fieldLabel(name), required, control, hint: fromRecord ? t("from_records") : hintOf(prop) });
  if (fromRecord) node.classList.add("prefilled");
  return {
    node,
    read() {
      if (control.type === "checkbox") return control.checked;
      const raw = control.value.trim();
      if (raw === "") return undefined;
      if (prop.type === "integer") return Number.parseInt(raw, 10);
      if (prop.type === "number") return Number(raw);
      return raw;
    },
    check(value, errors) {
      if (value === undefined) { if (required) errors[path] = t("err_required"); return; }
      if (typeof value === "string") { const e = checkString(value, prop); if (e) errors[path] = e; }
      if (typeof value === "number") {
        if (Number.isNaN(value) || (prop.type === "integer" && !Number.isInteger(value))) errors[path] = t("err_range");
        else if ((prop.minimum !== undefined && value < prop.minimum) || (prop.maximum !== undefined && value > prop.maximum) || (prop.exclusiveMinimum !== undefined && value <= prop.exclusiveMinimum)) errors[path] = t("err_range");
      }
    },
  };
}

// a list of strings: one value per line
function lines(path, name, prop, required) {
  const control = h("textarea", { name: path, rows: "3", spellcheck: "false" });
  const id = idOf(path);
  return {
    node: field({ id, label: fieldLabel(name), required, control, hint: t("lines_hint") }),
    read() {
      const v = control.value.split(/\n+/).map((s) => s.trim()).filter(Boolean);
      return v.length ? v : undefined;
    },
    check(value, errors) {
      if (value === undefined) { if (required || prop.minItems) errors[path] = t("err_required"); return; }
      if (prop.maxItems && value.length > prop.maxItems) { errors[path] = `${t("err_too_long")} (≤ ${prop.maxItems})`; return; }
      const bad = value.find((v) => checkString(v, prop.items || {}));
      if (bad !== undefined) errors[path] = `${t("err_pattern")}: ${bad}`;
    },
  };
}

// an object: its properties as a group (an optional one with nothing filled in is left out)
function group(path, name, prop, required, record) {
  const req = new Set(prop.required || []);
  const props = Object.entries(prop.properties || {});
  const children = props.map(([k, p]) => [k, build(path ? `${path}.${k}` : k, k, p, req.has(k), record)]);
  const compact = props.length <= 2 && props.every(([, p]) => p.type === "integer" || p.type === "number");
  const node = h("fieldset", { class: compact ? "group compact" : "group", "data-path": path, id: idOf(path) },
    h("legend", { class: required ? "required" : undefined }, fieldLabel(name), required ? null : h("span", { class: "muted" }, ` — ${t("optional_section")}`)),
    children.map(([, c]) => c.node));
  return {
    node,
    read() {
      const out = {};
      for (const [k, c] of children) { const v = c.read(); if (v !== undefined) out[k] = v; }
      return Object.keys(out).length ? out : undefined;
    },
    check(value, errors) {
      if (value === undefined) { if (required) children.forEach(([k, c]) => c.check(undefined, errors)); return; }
      for (const [k, c] of children) c.check(value[k], errors);
    },
  };
}

// a list of objects (founders, owners, buyers): rows added and removed, each a group
function rows(path, name, prop, required, record) {
  const item = prop.items || {};
  const body = h("div", { class: "rows" });
  const entries = [];
  const renumber = () => entries.forEach((e, i) => {
    e.legend.textContent = `${t("row")} ${i + 1}`;
    e.remove.setAttribute("aria-label", `${t("remove_row")}: ${t("row")} ${i + 1}`);
    e.remove.disabled = entries.length <= Math.max(1, prop.minItems || 0);
  });
  let counter = 0;
  const addRow = () => {
    const n = counter++;
    const g = group(`${path}.${n}`, name, { ...item, required: item.required }, true, record);
    const legend = g.node.querySelector("legend");
    const remove = h("button", { type: "button", class: "secondary remove-row" }, t("remove_row"));
    const entry = { n, g, legend, remove };
    remove.addEventListener("click", () => {
      entries.splice(entries.indexOf(entry), 1);
      g.node.remove();
      renumber();
      addButton.focus();
    });
    g.node.append(h("div", { class: "actions" }, remove));
    entries.push(entry);
    body.append(g.node);
    renumber();
    return g;
  };
  const addButton = h("button", { type: "button", class: "secondary add-row", id: `${idOf(path)}-add` }, `+ ${t("add_row")}`);
  addButton.addEventListener("click", () => {
    if (prop.maxItems && entries.length >= prop.maxItems) return;
    const g = addRow();
    const first = g.node.querySelector("input, select, textarea");
    if (first) first.focus();
  });
  for (let i = 0; i < Math.max(1, prop.minItems || 0); i++) addRow();
  const node = h("fieldset", { class: "list", "data-path": path, id: idOf(path) },
    h("legend", { class: required ? "required" : undefined }, fieldLabel(name)),
    h("p", { class: "hint" }, t("list_hint")),
    body, h("div", { class: "actions" }, addButton),
    h("span", { class: "error", id: `${idOf(path)}-error` }));
  return {
    node,
    read() {
      // a path names a row by its position in the list sent
      const values = entries.map((e) => e.g.read()).filter((v) => v !== undefined);
      return values.length ? values : undefined;
    },
    check(value, errors) {
      if (value === undefined) { if (required || prop.minItems) errors[path] = t("err_required"); }
      entries.forEach((e) => { const v = e.g.read(); if (v !== undefined || required) e.g.check(v, errors); });
    },
    // errors of the gateway name rows by their index in the list sent
    rowPath(index) { const e = entries[index]; return e ? `${path}.${e.n}` : path; },
  };
}

// a free-form object (details): "key: value" per line
function pairs(path, name, required) {
  const control = h("textarea", { name: path, rows: "3", spellcheck: "false" });
  return {
    node: field({ id: idOf(path), label: fieldLabel(name), required, control, hint: "…: …" }),
    read() {
      const out = {};
      for (const ln of control.value.split(/\n+/)) {
        const i = ln.indexOf(":");
        if (i > 0) out[ln.slice(0, i).trim()] = ln.slice(i + 1).trim();
      }
      return Object.keys(out).length ? out : undefined;
    },
    check(value, errors) { if (value === undefined && required) errors[path] = t("err_required"); },
  };
}

function prefillOf(prop, record) {
  const rule = prop["x-prefill"];
  if (!rule || !record) return undefined;
  if (rule.sex && record.sex !== rule.sex) return undefined;
  return record[rule.field];
}

function build(path, name, prop, required, record) {
  if (prop.type === "array") return prop.items && prop.items.type === "object" ? rows(path, name, prop, required, record) : lines(path, name, prop, required);
  if (prop.type === "object") return prop.properties ? group(path, name, prop, required, record) : pairs(path, name, required);
  return scalar(path, name, prop, required, prefillOf(prop, record));
}

// show errors keyed by path at their controls (and focus the first)
function showErrors(form, errors) {
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll(".error")) el.textContent = "";
  let first = null;
  for (const [path, message] of Object.entries(errors)) {
    const el = document.getElementById(idOf(path));
    if (!el) continue;
    const err = document.getElementById(`${idOf(path)}-error`);
    if (err) err.textContent = String(message);
    if (el.matches("input, select, textarea")) el.setAttribute("aria-invalid", "true");
    first = first || (el.matches("fieldset") ? el.querySelector("input, select, textarea, button") : el);
  }
  if (first) first.focus();
  return first !== null;
}

function recordPanel(record) {
  if (!record) return null;
  const name = [record.surname, record.given_name, record.patronymic].filter(Boolean).join(" ");
  return h("section", { class: "record", id: "my-record", "aria-labelledby": "my-record-title" },
    h("h2", { id: "my-record-title" }, t("my_record")),
    h("dl", { class: "kv" },
      h("dt", {}, t("full_name")), h("dd", {}, name),
      h("dt", {}, t("iin")), h("dd", { id: "my-iin" }, record.iin),
      record.address ? [h("dt", {}, fieldLabel("address")), h("dd", {}, record.address)] : null),
    h("p", { class: "muted" }, t("from_records")));
}

export async function applyForm(root, [code], ctx) {
  // once-only: the applicant's own record, read with their own token (a centre operator's
  // form, ctx.submit, gets the citizen's record from its own page, never the operator's)
  const recordSource = ctx.record || (ctx.submit ? null : api.myRecord);
  const [svc, record] = await Promise.all([
    api.service(code, lang()),
    recordSource ? recordSource().catch(() => null) : Promise.resolve(null),
  ]);
  const schema = svc.input_schema || {};
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const alert = h("div", { role: "alert", id: "apply-error" });
  const nodes = Object.entries(props).map(([name, prop]) => [name, build(name, name, prop, required.has(name), record)]);
  const form = h("form", { class: "stack", id: "apply-form", novalidate: true, "data-service": svc.code },
    nodes.map(([, n]) => n.node),
    h("div", { class: "actions" }, h("button", { type: "submit", id: "apply-submit" }, t("submit"))));
  add(root, h("h1", {}, `${t("apply_title")}: ${svc.name}`), h("p", { class: "notice" }, t("once_only")),
    h("p", { class: "meta" }, h("span", {}, `${t("fee")}: ${fee(svc)}`), h("span", {}, `${t("term")}: ${term(svc.sla)}`)),
    recordSource && !record ? h("p", { class: "notice" }, t("record_unavailable")) : recordPanel(record),
    alert, form);

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    alert.textContent = ""; alert.className = "";
    const payload = {};
    const errors = {};
    for (const [name, n] of nodes) {
      const v = n.read();
      n.check(v, errors);
      if (v !== undefined) payload[name] = v;
    }
    // nothing is sent while a field is wrong
    if (showErrors(form, errors)) { alert.className = "alert"; alert.textContent = t("err_form"); return; }
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      // ctx.submit: another channel submits the same form (the centre page, pages/centre.js)
      const app = await (ctx.submit || api.apply)(svc.code, payload);
      announce(t("submitted"));
      await ctx.navigate(`/applications/${encodeURIComponent(app.id)}`);
    } catch (err) {
      const fieldErrors = {};
      for (const [k, v] of Object.entries((err.problem && err.problem.errors) || {})) {
        const path = k.replace(/^(body\.)?(payload\.)?/, "");
        const [top, index, ...rest] = path.split(".");
        const list = nodes.find(([n]) => n === top);
        fieldErrors[list && list[1].rowPath && index !== undefined ? [list[1].rowPath(Number(index)), ...rest].join(".") : path] = v;
      }
      const shown = showErrors(form, fieldErrors);
      alert.className = "alert";
      alert.textContent = shown ? `${t("err_form")}: ${err.message}` : err.message;
    } finally { button.disabled = false; }
  });
}
