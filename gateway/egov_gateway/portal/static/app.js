// The single-window portal: a small History-API router over page modules.
import * as api from "./api.js";
import { h, clear, announce } from "./ui.js";
import { t, lang, setLang } from "./i18n.js";
import * as login from "./pages/login.js";
import * as catalogue from "./pages/catalogue.js";
import * as applications from "./pages/applications.js";
import * as inbox from "./pages/inbox.js";
import * as invoices from "./pages/invoices.js";
import * as operator from "./pages/operator.js";
import * as documents from "./pages/documents.js";
import * as centre from "./pages/centre.js";

const ROUTES = [
  { path: /^\/$/, page: catalogue.list, nav: "services" },
  { path: /^\/services$/, page: catalogue.list, nav: "services" },
  { path: /^\/services\/([^/]+)$/, page: catalogue.detail, nav: "services" },
  { path: /^\/apply\/([^/]+)$/, page: catalogue.applyForm, nav: "services", auth: true },
  { path: /^\/login$/, page: login.render, nav: "login" },
  { path: /^\/applications$/, page: applications.list, nav: "applications", auth: true },
  { path: /^\/applications\/([^/]+)$/, page: applications.detail, nav: "applications", auth: true },
  { path: /^\/applications\/([^/]+)\/documents\/([^/]+)$/, page: documents.page, nav: "applications", auth: true },
  { path: /^\/verify$/, page: documents.verify, nav: null },
  { path: /^\/verify\/([^/]+)$/, page: documents.verify, nav: null },
  { path: /^\/offers$/, page: inbox.offers, nav: "offers", auth: true },
  { path: /^\/notifications$/, page: inbox.notifications, nav: "notifications", auth: true },
  { path: /^\/data-access$/, page: inbox.dataAccess, nav: "data", auth: true },
  { path: /^\/invoices$/, page: invoices.render, nav: "invoices", auth: true },
  { path: /^\/operator$/, page: operator.render, nav: "operator", auth: true },
  { path: /^\/centre$/, page: centre.render, nav: "centre", auth: true },
];

const NAV = [
  { key: "services", href: "/services", label: "nav_services" },
  { key: "applications", href: "/applications", label: "nav_applications", auth: true },
  { key: "offers", href: "/offers", label: "nav_offers", auth: true },
  { key: "notifications", href: "/notifications", label: "nav_notifications", auth: true },
  { key: "invoices", href: "/invoices", label: "nav_invoices", auth: true },
  { key: "data", href: "/data-access", label: "nav_data", auth: true },
  { key: "operator", href: "/operator", label: "nav_operator", operator: true },
  { key: "centre", href: "/centre", label: "nav_centre", operator: true },
  { key: "login", href: "/login", label: "nav_login", anonymous: true },
];

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState({}, "", href);
  else history.pushState({}, "", href);
  return route();
}

function renderChrome(active) {
  const s = api.session();
  document.getElementById("brand-name").textContent = t("brand");
  document.getElementById("lang-label").textContent = t("language");
  document.getElementById("footer-text").textContent = t("footer");
  document.querySelector(".skip-link").textContent = t("skip");
  document.getElementById("lang").value = lang();
  const nav = clear(document.getElementById("nav"));
  const operator = Boolean(s && s.kind === "operator");
  // an operator's token is not a citizen's: the citizen's own pages are not theirs
  nav.append(h("ul", {}, NAV.filter((n) => (!n.auth || (s && !operator)) && (!n.anonymous || !s) && (!n.operator || operator))
    .map((n) => h("li", {}, h("a", { href: n.href, "data-link": "", "aria-current": n.key === active ? "page" : undefined, id: `nav-${n.key}` }, t(n.label))))));
  const box = clear(document.getElementById("session"));
  if (s) {
    box.append(h("span", {}, `${t("signed_in_as")} `, h("strong", { id: "whoami" }, s.sub || "")),
      h("button", { type: "button", id: "logout", onclick: async () => { await api.logout(); announce(t("logged_out")); navigate("/"); } }, t("logout")));
  }
}

let generation = 0;

export async function route() {
  // a newer navigation wins: a slower, older page never overwrites it
  const mine = ++generation;
  const stale = () => mine !== generation;
  const path = location.pathname.replace(/\/+$/, "") || "/";
  shown = location.pathname + location.search;
  const main = document.getElementById("main");
  let match = null;
  let params = [];
  for (const r of ROUTES) {
    const m = path.match(r.path);
    if (m) { match = r; params = m.slice(1).map(decodeURIComponent); break; }
  }
  renderChrome(match ? match.nav : null);
  clear(main);
  if (!match) {
    main.append(h("h1", {}, t("not_found")), h("p", {}, h("a", { href: "/", "data-link": "" }, t("nav_services"))));
  } else if (match.auth && !api.session()) {
    sessionStorage.setItem("egov.after_login", location.pathname + location.search);
    main.append(h("h1", {}, t("login_title")), h("p", { class: "notice" }, t("login_needed")));
    await login.render(main, [], { navigate, refresh: route });
  } else {
    main.setAttribute("aria-busy", "true");
    main.append(h("p", { class: "muted" }, t("loading")));
    try {
      const content = h("div", {});
      await match.page(content, params, { navigate, refresh: route });
      if (stale()) return;
      clear(main).append(...content.childNodes);
    } catch (err) {
      if (stale()) return;
      if (err instanceof api.ApiError && err.status === 401) {
        api.clearSession();
        return navigate("/login", { replace: true });
      }
      clear(main).append(h("h1", {}, t("error")), h("p", { class: "alert", role: "alert" }, err.message || String(err)));
    }
  }
  main.removeAttribute("aria-busy");
  const heading = main.querySelector("h1");
  if (heading) { heading.setAttribute("tabindex", "-1"); document.title = `${heading.textContent} — eGov`; }
  if (routed) (heading || main).focus();
  routed = true;
}
let routed = false;

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-link]");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href, location.origin);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
});
// a hash-only change (the skip link's #main) is no navigation: re-rendering would wipe the page
// and move the focus the link just gave
let shown = null;
window.addEventListener("popstate", () => {
  if (location.pathname + location.search !== shown) route();
});
document.getElementById("lang").addEventListener("change", (e) => { setLang(e.target.value); route(); });
setLang(lang());
route();
