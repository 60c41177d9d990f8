// DOM helpers: elements are built node by node (no HTML strings), so no data is ever markup.
import { money as formatMoney, dateText } from "./format.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.setAttribute("class", v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// append children to an element, flattening lists and skipping null/undefined/false
export function add(el, ...children) { return append(el, children); }

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  return append(el, children);
}

export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  return append(el, children);
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

let statusTimer = 0;
export function announce(message) {
  const el = document.getElementById("status");
  clearTimeout(statusTimer);
  el.textContent = "";
  // a fresh text node so screen readers announce a repeated message too
  requestAnimationFrame(() => { el.textContent = message; });
  statusTimer = setTimeout(() => { el.textContent = ""; }, 12000);
}

export function tableOf(caption, columns, rows) {
  return h("div", { class: "table-wrap", role: "region", "aria-label": caption, tabindex: "0" },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : undefined }, c.label)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c, i) =>
        i === 0 ? h("th", { scope: "row" }, c.value(r)) : h("td", { class: c.num ? "num" : undefined }, c.value(r))))))));
}

export function field({ id, label, hint, required, control, error }) {
  const hintId = hint ? `${id}-hint` : undefined;
  const errId = `${id}-error`;
  control.id = id;
  if (required) { control.required = true; control.setAttribute("aria-required", "true"); }
  const describedBy = [hintId, errId].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", describedBy);
  return h("div", { class: "field", "data-field": id },
    h("label", { for: id, class: required ? "required" : undefined }, label),
    hint ? h("span", { class: "hint", id: hintId }, hint) : null,
    control,
    h("span", { class: "error", id: errId }, error || ""));
}

export function showFieldErrors(form, errors) {
  let first = null;
  for (const el of form.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
  for (const el of form.querySelectorAll(".field .error")) el.textContent = "";
  for (const [key, message] of Object.entries(errors || {})) {
    const name = key.split(".").pop();
    const control = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (!control) continue;
    control.setAttribute("aria-invalid", "true");
    const err = document.getElementById(`${control.id}-error`);
    if (err) err.textContent = String(message);
    first = first || control;
  }
  if (first) first.focus();
  return first !== null;
}

// amounts in tenge and dates per locale (format.js), never tiyn or an ISO string
export function money(tiyn, lang) { return formatMoney(tiyn, lang); }

export function when(value, lang) { return dateText(value, lang); }

export function timeEl(value, lang) {
  return h("time", { datetime: value || "" }, when(value, lang));
}
