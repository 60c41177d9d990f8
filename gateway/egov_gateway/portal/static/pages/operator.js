// The operator's page: efficiency figures as charts, and the health of the mesh.
import * as api from "../api.js";
import { h, tableOf, timeEl, field } from "../ui.js";
import { t, lang } from "../i18n.js";
import { barChart, shareChart } from "../charts.js";

const LABELS = {
  services_rendered: "Services rendered", rendered: "Services rendered", share_electronic: "Share electronic",
  electronic_share: "Share electronic", sla_violations: "Term (SLA) violations", term_violations: "Term (SLA) violations",
  applications_by_status: "Applications by status", by_status: "Applications by status",
  satisfaction: "Satisfaction", average: "Average rating", distribution: "Ratings (1–5)", avg_rating: "Average rating",
  integrations: "Integrations", used: "used", granted: "granted", outages: "Technical failures",
  time_to_result: "Time to result", median_s: "median, s", p90_s: "p90, s", total_seconds: "total, s",
};
const label = (k) => LABELS[k] || k.replace(/_/g, " ");
const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const LABEL_KEYS = ["agency", "service_code", "service", "code", "status", "name", "key", "rating", "label"];

// draws whatever the figures hold: numbers as tiles, maps of numbers and lists of rows as bar charts
function figures(stats) {
  const kpis = [];
  const charts = [];
  const tables = [];
  const walk = (obj, prefix) => {
    for (const [k, v] of Object.entries(obj)) {
      const name = prefix ? `${label(prefix)} — ${label(k)}` : label(k);
      if (isNum(v)) {
        if (/share|ratio|rate$/.test(k) && v >= 0 && v <= 1) charts.push(shareChart(name, v, { id: `chart-${prefix ? prefix + "-" : ""}${k}` }));
        else kpis.push(h("li", { class: "kpi", "data-key": prefix ? `${prefix}.${k}` : k }, h("span", { class: "value" }, v.toLocaleString(undefined, { maximumFractionDigits: 2 })), h("span", { class: "label" }, name)));
      } else if (Array.isArray(v) && v.length && typeof v[0] === "object") {
        const lk = LABEL_KEYS.find((x) => x in v[0]) || Object.keys(v[0]).find((x) => typeof v[0][x] === "string");
        const numKeys = Object.keys(v[0]).filter((x) => isNum(v[0][x]) && x !== lk);
        if (lk && numKeys.length) charts.push(barChart(`${name} — ${label(numKeys[0])}`, v.map((r) => ({ label: String(r[lk]), value: r[numKeys[0]] })), { id: `chart-${k}` }));
        const cols = [lk, ...numKeys].filter(Boolean);
        if (cols.length) tables.push(tableOf(name, cols.map((c, i) => ({ label: label(c), num: i > 0, value: (r) => (isNum(r[c]) ? r[c].toLocaleString(undefined, { maximumFractionDigits: 2 }) : String(r[c] ?? "")) })), v));
      } else if (v && typeof v === "object" && !Array.isArray(v)) {
        const entries = Object.entries(v);
        if (entries.length && entries.every(([, x]) => isNum(x)) && !entries.some(([x]) => /share|average|avg|median|p90|mean/.test(x))) {
          charts.push(barChart(name, entries.map(([a, b]) => ({ label: label(a), value: b })), { id: `chart-${k}` }));
        } else walk(v, k);
      }
    }
  };
  walk(stats, "");
  return { kpis, charts, tables };
}

async function health() {
  const [agencies, outages] = await Promise.all([api.agencies(lang()), api.outages({}).catch(() => null)]);
  const down = new Set();
  const totals = {};
  for (const a of (outages && outages.agencies) || []) {
    totals[a.agency] = a.total_seconds;
    if ((a.intervals || []).some((iv) => !iv.ended_at)) down.add(a.agency);
  }
  const providers = api.items(agencies).filter((a) => a.provider !== false);
  return [
    h("h2", { id: "health-heading" }, t("health")),
    h("ul", { class: "health", id: "health", "aria-labelledby": "health-heading" }, providers.map((a) => {
      const state = a.status === "suspended" ? "suspended" : down.has(a.code) ? "down" : "up";
      return h("li", { class: state, "data-agency": a.code, "data-state": state },
        h("strong", {}, a.code), " — ", h("span", {}, t(state)), h("br", {}), h("span", { class: "muted" }, a.name));
    })),
    barChart(`${t("outage_total")}, s`, providers.map((a) => ({ label: a.code, value: Math.round(totals[a.code] || 0) })), { id: "chart-outages" }),
  ];
}

export async function render(root, _params, ctx) {
  const s = api.session();
  root.append(h("h1", {}, t("operator_title")));
  if (s.kind !== "operator") { root.append(h("p", { class: "notice" }, t("operator_only"))); }
  const params = new URLSearchParams(location.search);
  const from = params.get("from") || "";
  const to = params.get("to") || "";
  const fromInput = h("input", { type: "date", name: "from", value: from });
  const toInput = h("input", { type: "date", name: "to", value: to });
  const form = h("form", { class: "search", id: "period-form" },
    field({ id: "period-from", label: t("period_from"), control: fromInput }),
    field({ id: "period-to", label: t("period_to"), control: toInput }),
    h("div", { class: "field" }, h("button", { type: "submit" }, t("show"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const n = new URLSearchParams();
    if (fromInput.value) n.set("from", `${fromInput.value}T00:00:00Z`);
    if (toInput.value) n.set("to", `${toInput.value}T23:59:59Z`);
    ctx.navigate(`/operator${n.toString() ? "?" + n : ""}`);
  });
  fromInput.value = from.slice(0, 10);
  toInput.value = to.slice(0, 10);
  root.append(form);
  const [stats, mesh] = await Promise.all([
    api.stats({ from, to }).catch((err) => ({ __error: err })),
    health().catch((err) => [h("p", { class: "alert" }, err.message)]),
  ]);
  if (stats && stats.__error) {
    root.append(h("p", { class: "alert", role: "alert" }, stats.__error.message));
  } else {
    const { kpis, charts, tables } = figures(stats || {});
    root.append(h("ul", { class: "kpis", id: "kpis" }, kpis), h("div", { class: "charts", id: "charts" }, charts), ...tables);
    if (stats && (stats.from || stats.to)) root.append(h("p", { class: "muted" }, timeEl(stats.from, lang()), " — ", timeEl(stats.to, lang())));
  }
  root.append(...mesh);
}
