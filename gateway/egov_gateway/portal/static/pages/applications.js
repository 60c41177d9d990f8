// Track applications: my list, one application's status and timeline, and its rating.
import * as api from "../api.js";
import { h, add, announce, timeEl, tableOf, field, showFieldErrors } from "../ui.js";
import { t, lang } from "../i18n.js";

const DONE = new Set(["completed", "rendered", "succeeded", "done", "paid"]);
const FAILED = new Set(["failed", "rejected", "compensated", "cancelled", "expired", "refused"]);

export function statusClass(status) {
  if (DONE.has(status)) return "st st-ok";
  if (FAILED.has(status)) return "st st-bad";
  return "st st-wait";
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
    { label: t("status"), value: (a) => h("span", { class: statusClass(a.status), "data-status": a.status }, a.status) },
    { label: t("submitted_at"), value: (a) => timeEl(a.submitted_at, lang()) },
    { label: t("due"), value: (a) => [timeEl(a.due_at, lang()), a.overdue || a.overdue_at ? h("span", { class: "st st-bad" }, ` ${t("overdue")}`) : null] },
  ], rows));
}

function kv(obj) {
  const entries = Object.entries(obj || {}).filter(([, v]) => v !== null && v !== undefined && typeof v !== "object");
  if (!entries.length) return null;
  return h("dl", { class: "kv" }, entries.map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
}

function timeline(app) {
  const events = app.timeline || app.history || [];
  if (!events.length) return null;
  return [h("h2", {}, t("timeline")), h("ol", { class: "timeline", id: "timeline" }, events.map((e) => h("li", {},
    timeEl(e.at || e.time, lang()),
    h("span", { class: statusClass(e.status) }, [e.step, e.status || e.kind].filter(Boolean).join(": ")),
    e.kind && e.status ? h("span", { class: "muted" }, ` (${e.kind})`) : null,
    e.reason ? h("span", {}, ` — ${e.reason}`) : null,
    e.actor ? h("span", { class: "muted" }, ` · ${e.actor}`) : null)))];
}

function steps(app) {
  if (!app.steps || !app.steps.length) return null;
  return tableOf(t("steps"), [
    { label: t("steps"), value: (s) => s.name },
    { label: t("operation"), value: (s) => s.operation || "" },
    { label: t("status"), value: (s) => h("span", { class: statusClass(s.status) }, s.status) },
    { label: t("result"), value: (s) => s.error || "" },
  ], app.steps);
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
  nameOf = await api.serviceNames([app.service_code], lang());
  add(root, 
    h("h1", {}, serviceName(app)),
    h("p", {}, `${t("status")}: `, h("span", { class: statusClass(app.status), id: "app-status", "data-status": app.status }, app.status),
      app.overdue || app.overdue_at ? h("span", { class: "st st-bad" }, ` — ${t("overdue")}`) : null),
    h("dl", { class: "meta" },
      h("dt", {}, t("submitted_at")), h("dd", {}, timeEl(app.submitted_at, lang())),
      h("dt", {}, t("due")), h("dd", {}, timeEl(app.due_at, lang()))),
    app.failure_reason ? h("p", { class: "alert" }, app.failure_reason) : null,
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", id: "app-refresh", onclick: async () => { await ctx.refresh(); announce(`${t("status")}: ${document.getElementById("app-status")?.textContent || ""}`); } }, t("refresh"))),
    steps(app),
    timeline(app),
    app.result && typeof app.result === "object" ? [h("h2", {}, t("result")), kv(app.result)] : null,
    ratingForm(app, ctx),
  );
}
