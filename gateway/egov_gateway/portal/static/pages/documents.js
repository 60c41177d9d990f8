// A document a completed application issued, as a printable page (print CSS: only the
// document is printed), with its PDF and the QR code of the public verification page; and that
// public page, which asks the issuing agency whether the document is genuine and says so in words.
import * as api from "../api.js";
import { h, add, announce } from "../ui.js";
import { t, lang } from "../i18n.js";
import { dateText } from "../format.js";

export async function page(root, [id, number]) {
  const doc = await api.document(id, number, lang());
  const alert = h("div", { role: "alert", id: "document-error" });
  const download = async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try {
      const blob = await api.documentPdf(doc.pdf_url);
      const url = URL.createObjectURL(blob);
      const a = h("a", { href: url, download: `${doc.number}.pdf`, hidden: true });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      announce(t("download_pdf"));
    } catch (err) { alert.className = "alert"; alert.textContent = err.message; } finally { button.disabled = false; }
  };
  add(root,
    h("p", { class: "no-print" }, h("a", { href: `/applications/${encodeURIComponent(id)}`, "data-link": "" }, `← ${t("nav_applications")}`)),
    h("div", { class: "actions no-print" },
      h("button", { type: "button", id: "print-document", onclick: () => window.print() }, t("print")),
      h("button", { type: "button", class: "secondary", id: "download-pdf", onclick: download }, t("download_pdf"))),
    alert,
    h("article", { class: "document", id: "document", "data-number": doc.number, "data-kind": doc.kind, "aria-labelledby": "document-title" },
      h("header", { class: "document-head" },
        h("p", { class: "document-issuer" }, doc.issuer),
        h("h1", { id: "document-title" }, doc.title),
        h("p", { class: "document-meta" }, `${t("doc_number")}: `, h("strong", {}, doc.number),
          doc.issued_on_text ? [` · ${t("issued_on")}: `, h("time", { datetime: doc.issued_on || "" }, doc.issued_on_text)] : null)),
      doc.highlight ? h("p", { class: "document-highlight", id: "document-highlight" },
        h("span", { class: "highlight-label" }, doc.highlight.label), h("strong", { class: "highlight-value" }, doc.highlight.value)) : null,
      h("dl", { class: "document-fields" }, doc.fields.filter((f) => !doc.highlight || f.key !== doc.highlight.key)
        .map((f) => [h("dt", {}, f.label), h("dd", { "data-field": f.key }, f.value)])),
      h("footer", { class: "document-verify" },
        h("img", { src: doc.qr_svg, alt: t("verify_here"), width: "132", height: "132", class: "qr" }),
        h("div", {},
          h("p", {}, t("verify_scan")),
          h("p", {}, h("a", { href: doc.verify_url, id: "verify-link", class: "verify-link" }, doc.verify_url)),
          h("p", { class: "muted" }, `${t("issued_by")}: ${doc.issuer}`)))));
}

// public: no sign-in; the number comes from the QR code or is typed in
export async function verify(root, params, ctx) {
  const number = (params && params[0]) || new URLSearchParams(location.search).get("number") || "";
  const input = h("input", { name: "number", id: "verify-number", type: "text", value: number, maxlength: "60", autocomplete: "off", spellcheck: "false" });
  const form = h("form", { class: "search", id: "verify-form" },
    h("div", { class: "field" }, h("label", { for: "verify-number" }, t("verify_number")), input),
    h("div", { class: "field" }, h("button", { type: "submit" }, t("verify_check"))));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const n = input.value.trim();
    if (n) ctx.navigate(`/verify/${encodeURIComponent(n)}`);
  });
  add(root, h("h1", {}, t("verify_title")), form);
  if (!number) return;
  let verdict;
  let cert = null;
  try {
    cert = await api.verifyDocument(number);
    verdict = cert.valid ? "valid" : cert.status === "expired" ? "expired" : "invalid";
  } catch (err) {
    if (!(err instanceof api.ApiError) || (err.status !== 404 && err.status !== 422)) throw err;
    verdict = "not_found";
  }
  const ok = verdict === "valid";
  add(root, h("section", { class: ok ? "verdict verdict-ok" : "verdict verdict-bad", id: "verdict", "data-verdict": verdict, role: "status" },
    h("p", { class: "verdict-text" }, h("span", { "aria-hidden": "true" }, ok ? "✔ " : "✖ "), t(`verify_${verdict}`)),
    cert ? h("dl", { class: "kv" },
      cert.title ? [h("dt", {}, t("documents")), h("dd", {}, cert.title[lang()] || cert.title.ru || "")] : null,
      h("dt", {}, t("doc_number")), h("dd", {}, cert.number),
      h("dt", {}, t("issued_on")), h("dd", {}, dateText(String(cert.issued_at || "").slice(0, 10), lang()))) : null));
}
