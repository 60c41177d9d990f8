// Every call the portal makes, in one place; all go to the gateway's own origin.
const KEY = "egov.session";

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

function decode(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const json = decodeURIComponent(Array.from(atob(part), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""));
    return JSON.parse(json);
  } catch { return {}; }
}

export function session() {
  try { return JSON.parse(sessionStorage.getItem(KEY) || "null"); } catch { return null; }
}
function saveSession(tokens) {
  const claims = decode(tokens.access_token);
  const value = { access: tokens.access_token, refresh: tokens.refresh_token, sub: claims.sub, kind: claims.kind || "citizen", name: claims.name || null };
  sessionStorage.setItem(KEY, JSON.stringify(value));
  return value;
}
export function clearSession() { sessionStorage.removeItem(KEY); }

let refreshing = null;
async function refresh() {
  const s = session();
  if (!s || !s.refresh) return false;
  refreshing = refreshing || fetch("/x/identity/auth/refresh", {
    method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ refresh_token: s.refresh }),
  }).then(async (r) => {
    if (!r.ok) { clearSession(); return false; }
    saveSession(await r.json());
    return true;
  }).finally(() => { refreshing = null; });
  return refreshing;
}

export async function call(method, path, { body, query, auth = true, retry = true } = {}) {
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, v);
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const s = session();
  if (auth && s) headers.Authorization = `Bearer ${s.access}`;
  const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit" });
  if (r.status === 401 && auth && s && retry && (await refresh())) return call(method, path, { body, query, auth, retry: false });
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

// -- login through the gateway (identity's public /auth operations) -----------------------
export const login = (iin, password) => call("POST", "/x/identity/auth/login", { body: { iin, password }, auth: false });
export async function otp(challenge_id, code) {
  return saveSession(await call("POST", "/x/identity/auth/otp", { body: { challenge_id, code }, auth: false }));
}
export async function logout() {
  const s = session();
  if (s) { try { await call("POST", "/x/identity/auth/logout", { body: { refresh_token: s.refresh }, retry: false }); } catch { /* gone anyway */ } }
  clearSession();
}

// -- the register ----------------------------------------------------------------------
export const services = (query) => call("GET", "/api/v1/services", { query, auth: false });
export const service = (code, lang) => call("GET", `/api/v1/services/${encodeURIComponent(code)}`, { query: { lang }, auth: false });
export const agencies = (lang) => call("GET", "/api/v1/agencies", { query: { lang }, auth: false });
export const outages = (query) => call("GET", "/api/v1/outages", { query, auth: false });
export const stats = (query) => call("GET", "/api/v1/stats", { query });

// -- the citizen's single window ----------------------------------------------------------
export const apply = (service_code, payload) => call("POST", "/api/v1/applications", { body: { service_code, payload } });
export const myApplications = (query) => call("GET", "/api/v1/me/applications", { query });
export const application = (id) => call("GET", `/api/v1/applications/${encodeURIComponent(id)}`);
export const rate = (id, rating, comment) => call("POST", `/api/v1/applications/${encodeURIComponent(id)}/rating`, { body: { rating, comment: comment || null } });
export const offers = (query) => call("GET", "/api/v1/me/offers", { query });
export const acceptOffer = (id, supplied) => call("POST", `/api/v1/me/offers/${encodeURIComponent(id)}/accept`, { body: supplied && Object.keys(supplied).length ? { payload: supplied } : {} });
export const declineOffer = (id) => call("POST", `/api/v1/me/offers/${encodeURIComponent(id)}/decline`, { body: {} });
export const notifications = (query) => call("GET", "/api/v1/me/notifications", { query });
export const markRead = (ids) => call("POST", "/api/v1/me/notifications/read", { body: { ids } });
export const dataAccess = (query) => call("GET", "/api/v1/me/data-access", { query });

// -- once-only: the citizen's own record, read with the citizen's own token through the gateway
// (identity refuses anyone else's; the gateway adds no rights of its own)
export const myRecord = () => {
  const s = session();
  return call("GET", `/x/identity/persons/${encodeURIComponent(s.sub)}`);
};

// -- documents a completed application issued (never the signed token itself) --------------
export const documents = (id, lang) => call("GET", `/api/v1/applications/${encodeURIComponent(id)}/documents`, { query: { lang } });
export const document = (id, number, lang) => call("GET", `/api/v1/applications/${encodeURIComponent(id)}/documents/${encodeURIComponent(number)}`, { query: { lang } });
// the PDF as a Blob (an <a href> would not carry the citizen's token)
export async function documentPdf(path, retry = true) {
  const s = session();
  const r = await fetch(new URL(path, location.origin), { headers: { Accept: "application/pdf", Authorization: `Bearer ${s.access}` }, credentials: "omit" });
  if (r.status === 401 && retry && (await refresh())) return documentPdf(path, false);
  if (!r.ok) { let p = null; try { p = await r.json(); } catch { /* not JSON */ } throw new ApiError(r.status, p); }
  return r.blob();
}
// public: anyone checks a document by the number printed on it (the registry's check)
export const verifyDocument = (number) => call("GET", `/x/registry/public/certificates/${encodeURIComponent(number)}`, { auth: false });

// -- payments (routed to svc-payments; the citizen pays at the sandbox bank's own page) ------
export const invoices = (payer) => call("GET", "/x/payments/invoices", { query: { payer } });
export const invoice = (id) => call("GET", `/x/payments/invoices/${encodeURIComponent(id)}`);
export const startPayment = (id) => call("POST", `/x/payments/invoices/${encodeURIComponent(id)}/payments`, { body: {} });

// names of services in the current language, fetched once per code
const names = new Map();
export async function serviceNames(codes, lang) {
  await Promise.all([...new Set(codes)].filter((c) => !names.has(`${lang}:${c}`)).map(async (c) => {
    try { names.set(`${lang}:${c}`, (await service(c, lang)).name); } catch { names.set(`${lang}:${c}`, c); }
  }));
  return (code) => names.get(`${lang}:${code}`) || code;
}

// agencies by name in the current language (a code is never shown to a citizen)
const agencyNames = new Map();
export async function agencyName(lang) {
  if (!agencyNames.has(lang)) {
    const m = new Map();
    try { for (const a of items(await agencies(lang))) m.set(a.code, a.name); } catch { /* names only */ }
    agencyNames.set(lang, m);
  }
  const m = agencyNames.get(lang);
  return (code) => m.get(code) || "";
}

// lists come as {items: [...]} or as a bare array
export function items(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.items)) return data.items;
  return [];
}
