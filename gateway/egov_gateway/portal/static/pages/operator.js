// The operator's page: the efficiency figures (GET /api/v1/stats) as charts, and the mesh's health.
// Services and agencies by their names in the reader's language (the API's codes stay in data-*
// attributes); statuses in words with colours that mean what they say, never colour alone;
// durations in hours and minutes.
import * as api from "../api.js";
import { h, add, tableOf, timeEl, field } from "../ui.js";
import { t, lang, statusText } from "../i18n.js";
import { barChart, shareChart } from "../charts.js";

const num = (v, digits = 1) => (v === null || v === undefined ? "—" : Number(v).toLocaleString(lang(), { maximumFractionDigits: digits }));

// "2 ч 5 мин", "45 мин", "< 1 мин": technical failures as the efficiency tables write them
export function hoursMinutes(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const minutes = Math.round(seconds / 60);
  if (seconds > 0 && minutes === 0) return `< 1 ${t("u_minutes")}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return hours ? `${num(hours, 0)} ${t("u_hours")} ${rest} ${t("u_minutes")}` : `${rest} ${t("u_minutes")}`;
}
// a time to result: seconds while short, then hours and minutes
function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return seconds < 60 ? `${num(seconds)} ${t("u_seconds")}` : hoursMinutes(seconds);
}
// what an application's status means, for its colour, symbol and pattern (charts.js TONES)
const TONE = { completed: "good", failed: "bad", in_progress: "warn", waiting: "warn", compensating: "warn", submitted: "neutral" };
const STATUS_ORDER = ["completed", "failed", "in_progress", "waiting", "compensating", "submitted"];
const kpi = (key, value, label) => h("li", { class: "kpi", "data-key": key }, h("span", { class: "value" }, value), h("span", { class: "label" }, label));

function figures(stats, serviceName, agencyName) {
  const o = stats.overall || {};
  const tf = stats.technical_failures || { total_seconds: 0, by_agency: {}, by_service: {} };
  const integ = stats.integrations || { used: 0, granted: 0, operations: [] };
  const byAgency = Object.entries(stats.by_agency || {});
  const rated = Object.entries(stats.by_service || {}).filter(([, f]) => f.satisfaction_avg !== null && f.satisfaction_avg !== undefined);
  const statuses = Object.entries(o.by_status || {})
    .sort(([a], [b]) => (STATUS_ORDER.indexOf(a) + 99) % 99 - (STATUS_ORDER.indexOf(b) + 99) % 99);
  const failures = Object.entries(tf.by_agency || {}).sort(([, a], [, b]) => b.seconds - a.seconds);
  return [
    h("ul", { class: "kpis", id: "kpis" },
      kpi("applications", num(o.applications, 0), t("k_applications")),
      kpi("services_rendered", num(o.services_rendered, 0), t("k_rendered")),
      kpi("term_violations", num(o.term_violations, 0), t("k_violations")),
      kpi("satisfaction_avg", num(o.satisfaction_avg, 2), t("k_satisfaction")),
      kpi("ratings_count", num(o.ratings_count, 0), t("k_ratings")),
      kpi("time_to_result_median_s", duration(o.time_to_result_median_s), t("k_median")),
      kpi("time_to_result_p90_s", duration(o.time_to_result_p90_s), t("k_p90")),
      kpi("technical_failures", hoursMinutes(tf.total_seconds), t("k_failures")),
      kpi("integrations", `${num(integ.used, 0)} / ${num(integ.granted, 0)}`, t("k_integrations"))),
    h("div", { class: "charts", id: "charts" },
      shareChart(t("k_share_electronic"), o.share_electronic ?? 0, { id: "chart-share-electronic" }),
      h("div", { class: "chart-with-legend" },
        barChart(t("c_by_status"), statuses.map(([k, v]) => ({ key: k, label: statusText(k), value: v, tone: TONE[k] || "neutral" })), { id: "chart-by-status" }),
        h("p", { class: "muted legend", id: "status-legend" }, t("status_legend"))),
      barChart(t("c_ratings"), ["1", "2", "3", "4", "5"].map((k) => ({ label: `${k} ★`, value: (o.ratings || {})[k] || 0 })), { id: "chart-ratings" }),
      barChart(t("c_rendered_agency"), byAgency.map(([k, f]) => ({ key: k, label: agencyName(k) || k, value: f.services_rendered })), { id: "chart-rendered-by-agency" }),
      barChart(t("c_violations_agency"), byAgency.map(([k, f]) => ({ key: k, label: agencyName(k) || k, value: f.term_violations })), { id: "chart-violations-by-agency" }),
      barChart(t("c_failures_agency_hm"), failures.map(([k, v]) => ({ key: k, label: agencyName(k) || k, value: v.seconds / 60 })), { id: "chart-failures-by-agency", format: (minutes) => hoursMinutes(minutes * 60) }),
      barChart(t("c_integrations"), [{ label: t("used"), value: integ.used }, { label: t("granted"), value: integ.granted }], { id: "chart-integrations" }),
      rated.length ? barChart(t("c_satisfaction_service"), rated.map(([k, f]) => ({ key: k, label: serviceName(k), value: f.satisfaction_avg })), { id: "chart-satisfaction-by-service" }) : null),
    h("section", { id: "failures", "aria-label": t("failures_table") },
      failures.some(([, v]) => v.seconds > 0)
        ? tableOf(t("failures_table"), [
          { label: t("agency"), value: ([k]) => h("span", { "data-agency": k }, agencyName(k) || k) },
          { label: t("failures_duration"), num: true, value: ([, v]) => h("span", { class: "failure-duration", "data-seconds": String(v.seconds) }, hoursMinutes(v.seconds)) },
          { label: t("failures_count"), num: true, value: ([, v]) => num(v.intervals, 0) },
        ], failures.filter(([, v]) => v.seconds > 0))
        : h("p", { class: "muted" }, t("no_failures"))),
    Object.keys(stats.by_service || {}).length ? tableOf(t("service"), [
      { label: t("service"), value: ([k]) => h("span", { "data-service": k }, serviceName(k)) },
      { label: t("k_applications"), num: true, value: ([, f]) => num(f.applications, 0) },
      { label: t("k_rendered"), num: true, value: ([, f]) => num(f.services_rendered, 0) },
      { label: t("k_violations"), num: true, value: ([, f]) => num(f.term_violations, 0) },
      { label: t("k_satisfaction"), num: true, value: ([, f]) => num(f.satisfaction_avg, 2) },
      { label: t("k_median"), num: true, value: ([, f]) => duration(f.time_to_result_median_s) },
      { label: t("k_p90"), num: true, value: ([, f]) => duration(f.time_to_result_p90_s) },
    ], Object.entries(stats.by_service)) : null,
    integ.operations && integ.operations.length ? tableOf(t("c_integrations"), [
      { label: t("who"), value: (r) => agencyName(r.client) || r.client },
      { label: t("agency"), value: (r) => agencyName(r.agency) || r.agency },
      { label: t("operation"), value: (r) => h("code", {}, r.operation_id) },
      { label: "#", num: true, value: (r) => num(r.calls, 0) },
    ], integ.operations) : null,
  ];
}

async function health() {
  const [agencies, outages] = await Promise.all([api.agencies(lang()), api.outages({}).catch(() => null)]);
  const down = new Set();
  for (const a of (outages && outages.agencies) || []) {
    if ((a.intervals || []).some((iv) => !iv.ended_at)) down.add(a.agency);
  }
  const providers = api.items(agencies).filter((a) => a.provider !== false);
  return [
    h("h2", { id: "health-heading" }, t("health")),
    h("ul", { class: "health", id: "health", "aria-labelledby": "health-heading" }, providers.map((a) => {
      const state = a.status === "suspended" ? "suspended" : down.has(a.code) ? "down" : "up";
      return h("li", { class: state, "data-agency": a.code, "data-state": state },
        h("strong", {}, a.name || a.code), h("br", {}), h("span", { class: "state" }, t(state)));
    })),
  ];
}

export async function render(root, _params, ctx) {
  const s = api.session();
  add(root, h("h1", {}, t("operator_title")));
  if (s.kind !== "operator") add(root, h("p", { class: "notice" }, t("operator_only")));
  const params = new URLSearchParams(location.search);
  const from = params.get("from") || "";
  const to = params.get("to") || "";
  const agency = params.get("agency") || "";
  const agencies = api.items(await api.agencies(lang())).filter((a) => a.provider !== false);
  const fromInput = h("input", { type: "date", name: "from" });
  const toInput = h("input", { type: "date", name: "to" });
  fromInput.value = from.slice(0, 10);
  toInput.value = to.slice(0, 10);
  const agencySelect = h("select", { name: "agency" }, h("option", { value: "" }, t("all_agencies")),
    agencies.map((a) => h("option", { value: a.code, selected: a.code === agency }, a.name || a.code)));
  const form = h("form", { class: "search", id: "period-form" },
    field({ id: "period-from", label: t("period_from"), control: fromInput }),
    field({ id: "period-to", label: t("period_to"), control: toInput }),
    field({ id: "period-agency", label: t("agency"), control: agencySelect }),
    h("div", { class: "field" }, h("button", { type: "submit" }, t("show"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const n = new URLSearchParams();
    if (fromInput.value) n.set("from", `${fromInput.value}T00:00:00Z`);
    if (toInput.value) n.set("to", `${toInput.value}T23:59:59Z`);
    if (agencySelect.value) n.set("agency", agencySelect.value);
    ctx.navigate(`/operator${n.toString() ? "?" + n : ""}`);
  });
  add(root, form);
  const [stats, mesh, agencyName] = await Promise.all([
    api.stats({ from, to, agency }).catch((err) => ({ __error: err })),
    health().catch((err) => [h("p", { class: "alert" }, err.message)]),
    api.agencyName(lang()),
  ]);
  if (stats.__error) add(root, h("p", { class: "alert", role: "alert" }, stats.__error.message));
  else {
    const serviceName = await api.serviceNames(Object.keys(stats.by_service || {}), lang());
    add(root, h("p", { class: "muted", id: "period" }, timeEl(stats.from, lang()), " — ", timeEl(stats.to, lang())), ...figures(stats, serviceName, agencyName));
  }
  add(root, ...mesh);
}
