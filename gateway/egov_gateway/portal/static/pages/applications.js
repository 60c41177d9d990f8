// Track applications: my list, one application's status, steps, timeline, the documents and
// amounts it produced, and its rating. Everything in the reader's language: statuses, step
// titles (the register's), dates and tenge — never a code, an id or an agency's technical text.
import * as api from "../api.js";
import { h, add, announce, timeEl, tableOf, field, showFieldErrors, money } from "../ui.js";
import { t, lang, statusText } from "../i18n.js";

const DONE = new Set(["completed", "rendered", "succeeded", "done", "paid", "accepted"]);
const FAILED = new Set(["failed", "rejected", "compensated", "cancelled", "expired", "refused", "compensation_failed"]);

export function statusClass(status) {
  if (DONE.has(status)) return "st st-ok";
  if (FAILED.has(status)) return "st st-bad";
  return "st st-wait";
}
export function statusBadge(status, attrs = {}) {
  return h("span", { class: statusClass(status), "data-status": status, ...attrs }, statusText(status));
}
export function text(value) {
  if (value && typeof value === "object") return value[lang()] || value.en || Object.values(value)[0] || "";
  return value ?? "";
}
let nameOf = (code) => code;
function serviceName(app) { return nameOf(app.service_code); }

export async function list(root) {
  const data = await api.myApplications({ limit: 100 });
  const rows = api.items(data);
  nameOf = await api.serviceNames(rows.map((a) => a.service_code), lang());
  add(root, h("h1", {}, t("applications_title")));
  if (!rows.length) { add(root, h("p", {}, t("none")), h("p", {}, h("a", { href: "/services", "data-link": "" }, t("nav_services")))); return; }
  add(root, tableOf(t("applications_title"), [
    { label: t("service"), value: (a) => h("a", { href: `/applications/${encodeURIComponent(a.id)}`, "data-link": "" }, serviceName(a)) },
    { label: t("status"), value: (a) => statusBadge(a.status) },
    { label: t("submitted_at"), value: (a) => timeEl(a.submitted_at, lang()) },
    { label: t("due"), value: (a) => [timeEl(a.due_at, lang()), a.overdue || a.overdue_at ? h("span", { class: "st st-bad" }, ` ${t("overdue")}`) : null] },
  ], rows));
}

// a step as the citizen reads it: the register's title, else (a simple service's only step)
// the service's name, else "Step n"
function stepTitles(app, svc) {
  const titles = new Map();
  for (const st of (svc && svc.steps) || []) if (st.title) titles.set(st.name, text(st.title));
  // the single window's own first step: the applicant's record read once (once-only)
  titles.set("applicant_record", t("step_applicant"));
  const simple = (app.steps || []).filter((s) => s.name !== "applicant_record").length <= 1;
  return (name, index) => titles.get(name) || (simple ? serviceName(app) : `${t("step_n")} ${index + 1}`);
}

function timeline(app, titleOf) {
  const events = app.timeline || [];
  if (!events.length) return null;
  const order = new Map((app.steps || []).map((s, i) => [s.name, i]));
  const line = (e) => {
    if (e.kind === "submitted") return t("tl_submitted");
    if (e.kind === "rated") return t("tl_rated");
    if (e.kind === "status") return `${t("tl_status")}: ${statusText(e.status)}`;
    const what = t(`tl_${e.kind}`) !== `tl_${e.kind}` ? t(`tl_${e.kind}`) : t("tl_other");
    return e.step ? `${titleOf(e.step, order.get(e.step) ?? 0)}: ${what}` : what;
  };
  return [h("h2", {}, t("timeline")), h("ol", { class: "timeline", id: "timeline" }, events.map((e) => h("li", {},
    timeEl(e.at || e.time, lang()), " ",
    h("span", { class: e.status ? statusClass(e.status) : undefined, "data-kind": e.kind }, line(e)))))];
}

function steps(app, titleOf) {
  if (!app.steps || !app.steps.length) return null;
  return tableOf(t("steps"), [
    { label: t("steps"), value: (s) => titleOf(s.name, app.steps.indexOf(s)) },
    { label: t("status"), value: (s) => statusBadge(s.status) },
  ], app.steps);
}

// amounts the steps produced (a payout, a fee): in tenge, named by their step
function amounts(app, titleOf) {
  const rows = [];
  (app.steps || []).forEach((s, i) => {
    for (const source of [s.event, s.result]) {
      const data = source && typeof source === "object" && !Array.isArray(source) ? (source.data && typeof source.data === "object" ? source.data : source) : null;
      if (data && Number.isFinite(Number(data.amount_tiyn)) && data.amount_tiyn !== null && data.amount_tiyn !== undefined) {
        rows.push({ step: titleOf(s.name, i), tiyn: Number(data.amount_tiyn) });
        break;
      }
    }
  });
  if (!rows.length) return null;
  return [h("h2", {}, t("amounts")), h("dl", { class: "kv", id: "amounts" }, rows.map((r) => [h("dt", {}, r.step), h("dd", { class: "money" }, money(r.tiyn, lang()))]))];
}

function documentsSection(app, docs) {
  if (!docs.length) return null;
  return [h("h2", {}, t("documents")), h("ul", { class: "cards", id: "documents" }, docs.map((d) => h("li", { class: "card document-card", "data-number": d.number, "data-kind": d.kind },
    h("h3", {}, d.title),
    d.highlight ? h("p", { class: "highlight" }, h("span", { class: "highlight-label" }, d.highlight.label), " ", h("strong", { class: "highlight-value", id: `highlight-${d.number}` }, d.highlight.value)) : null,
    h("p", { class: "meta" }, h("span", {}, `${t("doc_number")}: ${d.number}`), d.issued_on_text ? h("span", {}, `${t("issued_on")}: ${d.issued_on_text}`) : null),
    h("p", {}, h("a", { class: "button", href: `/applications/${encodeURIComponent(app.id)}/documents/${encodeURIComponent(d.number)}`, "data-link": "" }, t("open_document"))))))];
}

function ratingForm(app, ctx) {
  if (app.rating) {
    const r = typeof app.rating === "object" ? app.rating : { rating: app.rating, comment: app.rating_comment };
    return h("p", { class: "notice", id: "rating-done" }, `${t("rating")}: ${"★".repeat(r.rating || r.score || 0)} ${r.comment || ""}`);
  }
  if (!DONE.has(app.status)) return null;
  const comment = h("textarea", { name: "comment", rows: "3", maxlength: "1000" });
  const alert = h("div", { role: "alert" });
  const form = h("form", { class: "stack", id: "rating-form", novalidate: true },
    h("fieldset", { class: "stars" }, h("legend", { class: "required" }, t("rating")),
      [1, 2, 3, 4, 5].map((n) => h("label", {}, h("input", { type: "radio", name: "rating", value: String(n), required: n === 1 }), `${n} ★`))),
    field({ id: "rating-comment", label: t("comment"), control: comment }),
    alert,
    h("div", { class: "actions" }, h("button", { type: "submit", id: "rating-submit" }, t("send_rating"))));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const chosen = form.querySelector("input[name=rating]:checked");
    if (!chosen) { alert.className = "alert"; alert.textContent = t("rating"); form.querySelector("input[name=rating]").focus(); return; }
    try {
      await api.rate(app.id, Number(chosen.value), comment.value.trim());
      announce(t("rated"));
      await ctx.refresh();
    } catch (err) {
      if (!showFieldErrors(form, err.problem && err.problem.errors)) { alert.className = "alert"; alert.textContent = err.message; }
    }
  });
  return [h("h2", {}, t("rate_title")), form];
}

export async function detail(root, [id], ctx) {
  const app = await api.application(id);
  const [svc, docs] = await Promise.all([
    api.service(app.service_code, lang()).catch(() => null),
    api.documents(id, lang()).catch(() => []),
  ]);
  nameOf = await api.serviceNames([app.service_code], lang());
  const titleOf = stepTitles(app, svc);
  add(root,
    h("h1", {}, serviceName(app)),
    h("p", {}, `${t("status")}: `, statusBadge(app.status, { id: "app-status" }),
      app.overdue || app.overdue_at ? h("span", { class: "st st-bad" }, ` — ${t("overdue")}`) : null),
    h("dl", { class: "meta" },
      h("dt", {}, t("submitted_at")), h("dd", {}, timeEl(app.submitted_at, lang())),
      h("dt", {}, t("due")), h("dd", {}, timeEl(app.due_at, lang()))),
    // made for the citizen by a public service centre's operator, with their consent
    app.origin === "centre" ? h("p", { id: "app-origin", "data-origin": "centre" }, t("origin_centre")) : null,
    app.status === "failed" ? h("p", { class: "alert" }, t("failed_generic")) : null,
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", id: "app-refresh", onclick: async () => { await ctx.refresh(); announce(`${t("status")}: ${document.getElementById("app-status")?.textContent || ""}`); } }, t("refresh"))),
    documentsSection(app, docs),
    amounts(app, titleOf),
    steps(app, titleOf),
    timeline(app, titleOf),
    ratingForm(app, ctx),
  );
}
