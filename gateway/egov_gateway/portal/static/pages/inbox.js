// Proactive offers, the notification inbox and the data tracker.
import * as api from "../api.js";
import { h, add, announce, timeEl, tableOf, field } from "../ui.js";
import { t, lang, fieldLabel } from "../i18n.js";
import { statusBadge, text } from "./applications.js";

export async function offers(root, _params, ctx) {
  const data = await api.offers({ status: "all", limit: 100 });
  const rows = api.items(data);
  const nameOf = await api.serviceNames(rows.map((o) => o.service_code), lang());
  add(root, h("h1", {}, t("offers_title")));
  if (!rows.length) { add(root, h("p", {}, t("none"))); return; }
  add(root, h("ul", { class: "cards", id: "offers" }, rows.map((o) => {
    const open = o.status === "offered" || o.status === "open";
    const supplies = o.citizen_supplies || [];
    const alert = h("div", { role: "alert" });
    const inputs = supplies.map((name) => field({ id: `o-${o.id}-${name}`, label: fieldLabel(name), required: true, control: h("input", { name, type: "text" }) }));
    const act = async (accept, button) => {
      button.disabled = true;
      alert.textContent = "";
      try {
        if (accept) {
          const supplied = {};
          for (const name of supplies) supplied[name] = card.querySelector(`[name="${CSS.escape(name)}"]`).value.trim();
          const res = await api.acceptOffer(o.id, supplied);
          announce(t("accepted"));
          const appId = res && (res.application_id || (res.application && res.application.id));
          await (appId ? ctx.navigate(`/applications/${encodeURIComponent(appId)}`) : ctx.refresh());
        } else {
          await api.declineOffer(o.id);
          announce(t("declined"));
          await ctx.refresh();
        }
      } catch (err) { alert.className = "alert"; alert.textContent = err.message; button.disabled = false; }
    };
    const title = text(o.title) || nameOf(o.service_code);
    const card = h("li", { class: "card", "data-offer": o.id, "data-service": o.service_code },
      h("h2", {}, title),
      h("p", { class: "meta" },
        statusBadge(o.status),
        h("span", {}, `${t("service")}: ${nameOf(o.service_code)}`),
        o.expires_at ? h("span", {}, `${t("expires")}: `, timeEl(o.expires_at, lang())) : null),
      open ? inputs : null,
      alert,
      open ? h("div", { class: "actions" },
        h("button", { type: "button", class: "accept", "aria-label": `${t("accept")}: ${title}`, onclick: (e) => act(true, e.currentTarget) }, t("accept")),
        h("button", { type: "button", class: "danger decline", "aria-label": `${t("decline")}: ${title}`, onclick: (e) => act(false, e.currentTarget) }, t("decline"))) : null,
      o.application_id ? h("p", {}, h("a", { href: `/applications/${encodeURIComponent(o.application_id)}`, "data-link": "" }, t("nav_applications"))) : null);
    return card;
  })));
}

export async function notifications(root, _params, ctx) {
  const data = await api.notifications({ limit: 100, lang: lang() });
  const rows = api.items(data);
  add(root, h("h1", {}, t("notifications_title")));
  if (!rows.length) { add(root, h("p", {}, t("none"))); return; }
  add(root, h("ul", { class: "cards", id: "notifications" }, rows.map((n) => h("li", { class: n.read || n.read_at ? "card" : "card unread", "data-kind": n.kind },
    h("h2", {}, text(n.title)),
    h("p", {}, text(n.body)),
    h("p", { class: "meta" }, timeEl(n.created_at || n.at, lang()),
      n.ref_type === "application" && n.ref_id ? h("a", { href: `/applications/${encodeURIComponent(n.ref_id)}`, "data-link": "" }, t("nav_applications")) : null,
      n.ref_type === "offer" ? h("a", { href: "/offers", "data-link": "" }, t("nav_offers")) : null,
      n.ref_type === "invoice" ? h("a", { href: "/invoices", "data-link": "" }, t("nav_invoices")) : null),
    n.read || n.read_at ? null : h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: async () => {
      try { await api.markRead([n.id]); await ctx.refresh(); announce(t("mark_read")); } catch (err) { announce(err.message); }
    } }, t("mark_read")))))));
}

// a citizen's own call (the single window runs each step of an application as the applicant)
// reads as "you"; another citizen (a parent reading a minor child's record) as "a citizen"; an
// agency by its name
function whoAccessed(r, agencyOf) {
  const me = (api.session() || {}).sub;
  if (r.who === "citizen") {
    if (r.on_behalf_of && r.on_behalf_of === me) {
      return (r.purpose || "").startsWith("application ") ? t("who_you_single_window") : t("who_you");
    }
    return t("who_citizen");
  }
  return agencyOf(r.who) || t("agency");
}

// a purpose as people wrote it, without the internal ids some carry ("application <uuid>")
const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
function purposeText(r, nameOf) {
  const p = String(r.purpose || "");
  if (!p || p.startsWith("application ")) return r.service_code ? nameOf(r.service_code) : "—";
  return p.replace(UUID, "").replace(/\s{2,}/g, " ").trim() || "—";
}

export async function dataAccess(root) {
  const data = await api.dataAccess({ limit: 200 });
  const rows = api.items(data);
  const [agencyOf, nameOf] = await Promise.all([api.agencyName(lang()), api.serviceNames(rows.map((r) => r.service_code).filter(Boolean), lang())]);
  add(root, h("h1", {}, t("data_title")));
  if (!rows.length) { add(root, h("p", {}, t("none"))); return; }
  add(root, tableOf(t("data_title"), [
    { label: t("when"), value: (r) => timeEl(r.time, lang()) },
    { label: t("who"), value: (r) => whoAccessed(r, agencyOf) },
    { label: t("agency"), value: (r) => agencyOf(r.agency) || "—" },
    { label: t("service"), value: (r) => (r.service_code ? nameOf(r.service_code) : "—") },
    { label: t("purpose"), value: (r) => purposeText(r, nameOf) },
  ], rows));
}
