// Charts as inline SVG built node by node; each has a text alternative and its data as a table.
import { h, s, tableOf } from "./ui.js";
import { t } from "./i18n.js";

// neutral series colours: none of them green, red or amber, which are kept for meanings
const COLORS = ["#00557f", "#6a4c93", "#2a6f97", "#4a4e69", "#355070", "#5c677d", "#1d3557", "#595959"];
// colours that mean something, never alone: each tone also has a symbol in the label and a
// pattern over the bar (solid = done, hatched = failed, dotted = still going)
export const TONES = {
  good: { fill: "#1b6e2d", mark: "✓", pattern: null },
  bad: { fill: "#a4161a", mark: "✗", pattern: "hatch" },
  warn: { fill: "#b45309", mark: "…", pattern: "dots" },
  neutral: { fill: "#5c677d", mark: "○", pattern: "dots" },
};
let seq = 0;

// a pattern drawn over a bar (white, so the bar keeps its colour): hatched or dotted
function overlay(kind, x, y, w, hgt) {
  if (!kind || w <= 0) return null;
  const marks = [];
  if (kind === "hatch") {
    for (let i = -hgt; i < w; i += 6) {
      marks.push(s("line", { x1: String(x + Math.max(0, i)), y1: String(y + hgt - Math.max(0, -i)), x2: String(x + Math.min(w, i + hgt)), y2: String(y + Math.max(0, hgt - (w - i))), stroke: "#ffffff", "stroke-width": "1.5", "stroke-opacity": "0.7" }));
    }
  } else {
    for (let i = 4; i < w - 1; i += 8) marks.push(s("circle", { cx: String(x + i), cy: String(y + hgt / 2), r: "1.6", fill: "#ffffff", "fill-opacity": "0.8" }));
  }
  return s("g", { class: `pattern-${kind}`, "aria-hidden": "true" }, marks);
}

function fmt(v) { return typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString() : v.toLocaleString(undefined, { maximumFractionDigits: 2 })) : String(v); }

// horizontal bars: readable at 375px whatever the labels' length. A datum may carry a `tone`
// (good/bad/warn/neutral: its colour, symbol and pattern) and `format(value)` gives the text
// of a value (e.g. hours and minutes) where the bar's length is the number.
export function barChart(title, data, { unit = "", id, format } = {}) {
  const rows = data.filter((d) => typeof d.value === "number" && Number.isFinite(d.value));
  const max = Math.max(1, ...rows.map((d) => d.value));
  const text = (v) => (format ? format(v) : `${fmt(v)}${unit}`);
  const label = (d) => (d.tone && TONES[d.tone] ? `${TONES[d.tone].mark} ${d.label}` : String(d.label));
  const W = 300; const barH = 14; const gap = 34;
  const H = Math.max(1, rows.length) * gap + 6;
  const titleId = `chart-${++seq}`;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": titleId, focusable: "false" },
    s("title", { id: titleId }, `${title}: ${rows.map((d) => `${label(d)} ${text(d.value)}`).join("; ") || "—"}`),
    rows.map((d, i) => {
      const y = i * gap + 4;
      const w = Math.max(d.value > 0 ? 2 : 0, (d.value / max) * (W - 90));
      const tone = d.tone && TONES[d.tone];
      return s("g", { "data-label": d.label, "data-value": String(d.value), "data-key": d.key, "data-tone": d.tone },
        s("text", { x: "0", y: String(y + 9), "font-size": "13", fill: "#1a1a1a" }, label(d).slice(0, 44)),
        s("rect", { class: "bar", x: "0", y: String(y + 15), width: String(w), height: String(barH), rx: "2", fill: tone ? tone.fill : COLORS[i % COLORS.length] }),
        tone ? overlay(tone.pattern, 0, y + 15, w, barH) : null,
        s("text", { x: String(w + 4), y: String(y + 27), "font-size": "13", fill: "#1a1a1a" }, text(d.value)));
    }));
  return h("figure", { class: "chart", id },
    h("figcaption", {}, title),
    rows.length ? svg : h("p", { class: "muted" }, "—"),
    h("details", {}, h("summary", {}, t("data_table")),
      tableOf(title, [{ label: "", value: (d) => label(d) }, { label: "", num: true, value: (d) => text(d.value) }], rows)));
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
