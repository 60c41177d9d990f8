// Charts as inline SVG built node by node; each has a text alternative and its data as a table.
import { h, s, tableOf } from "./ui.js";
import { t } from "./i18n.js";

const COLORS = ["#00557f", "#f4c430", "#1b6e2d", "#a4161a", "#6a4c93", "#8a5a00", "#2a9d8f", "#595959"];
let seq = 0;

function fmt(v) { return typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString() : v.toLocaleString(undefined, { maximumFractionDigits: 2 })) : String(v); }

// horizontal bars: readable at 375px whatever the labels' length
export function barChart(title, data, { unit = "", id } = {}) {
  const rows = data.filter((d) => typeof d.value === "number" && Number.isFinite(d.value));
  const max = Math.max(1, ...rows.map((d) => d.value));
  const W = 300; const barH = 14; const gap = 34;
  const H = Math.max(1, rows.length) * gap + 6;
  const titleId = `chart-${++seq}`;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": titleId, focusable: "false" },
    s("title", { id: titleId }, `${title}: ${rows.map((d) => `${d.label} ${fmt(d.value)}${unit}`).join("; ") || "—"}`),
    rows.map((d, i) => {
      const y = i * gap + 4;
      const w = Math.max(d.value > 0 ? 2 : 0, (d.value / max) * (W - 60));
      return s("g", { "data-label": d.label, "data-value": String(d.value) },
        s("text", { x: "0", y: String(y + 9), "font-size": "13", fill: "#1a1a1a" }, String(d.label).slice(0, 40)),
        s("rect", { x: "0", y: String(y + 15), width: String(w), height: String(barH), rx: "2", fill: COLORS[i % COLORS.length] }),
        s("text", { x: String(w + 4), y: String(y + 27), "font-size": "13", fill: "#1a1a1a" }, `${fmt(d.value)}${unit}`));
    }));
  return h("figure", { class: "chart", id },
    h("figcaption", {}, title),
    rows.length ? svg : h("p", { class: "muted" }, "—"),
    h("details", {}, h("summary", {}, t("data_table")),
      tableOf(title, [{ label: "", value: (d) => d.label }, { label: "", num: true, value: (d) => `${fmt(d.value)}${unit}` }], rows)));
}

// one share (0..1) as a filled bar with the percentage
export function shareChart(title, share, { id } = {}) {
  const pct = Math.max(0, Math.min(1, Number(share) || 0));
  const titleId = `chart-${++seq}`;
  const label = `${(pct * 100).toFixed(1)} %`;
  return h("figure", { class: "chart", id },
    h("figcaption", {}, title),
    s("svg", { viewBox: "0 0 320 40", role: "img", "aria-labelledby": titleId, focusable: "false" },
      s("title", { id: titleId }, `${title}: ${label}`),
      s("rect", { x: "0", y: "4", width: "320", height: "22", rx: "3", fill: "#e6f1f7" }),
      s("rect", { x: "0", y: "4", width: String(320 * pct), height: "22", rx: "3", fill: "#1b6e2d" }),
      s("text", { x: "6", y: "20", "font-size": "13", fill: pct > 0.15 ? "#ffffff" : "#1a1a1a", "font-weight": "700" }, label)));
}
