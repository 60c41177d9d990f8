// Invoices addressed to me, paid at the sandbox acquirer's own payment page.
import * as api from "../api.js";
import { h, add, announce, timeEl, money } from "../ui.js";
import { t, lang } from "../i18n.js";
import { statusBadge } from "./applications.js";

export async function render(root, _params, ctx) {
  const s = api.session();
  const rows = api.items(await api.invoices(s.sub));
  const agencyOf = await api.agencyName(lang());
  add(root, h("h1", {}, t("invoices_title")),
    h("div", { class: "actions" }, h("button", { type: "button", class: "secondary", onclick: () => ctx.refresh() }, t("refresh"))));
  if (!rows.length) { add(root, h("p", {}, t("none"))); return; }
  add(root, h("ul", { class: "cards", id: "invoices" }, rows.map((inv) => {
    const alert = h("div", { role: "alert" });
    const payArea = h("div", {});
    const payable = inv.status === "issued";
    return h("li", { class: "card", "data-invoice": inv.id },
      // agencies write purposes for their accountants (one language): the title is the fee's
      // recipient, by name, in the reader's language
      h("h2", {}, `${t("fee")}: ${agencyOf(inv.beneficiary_agency) || t("agency")}`),
      lang() === "en" && inv.purpose ? h("p", { class: "muted" }, inv.purpose) : null,
      h("p", { class: "meta" },
        h("span", { class: "money" }, `${t("amount")}: ${money(inv.amount_tiyn, lang())}`),
        statusBadge(inv.status === "paid" ? "paid" : inv.status),
        inv.due_date ? h("span", {}, `${t("due")}: `, timeEl(inv.due_date, lang())) : null),
      alert, payArea,
      payable ? h("div", { class: "actions" }, h("button", { type: "button", class: "pay", onclick: async (e) => {
        e.currentTarget.disabled = true;
        try {
          const session = await api.startPayment(inv.id);
          payArea.replaceChildren(h("p", { class: "notice" }, t("pay_opened")),
            h("p", {}, h("a", { href: session.payment_url, target: "_blank", rel: "noopener noreferrer", class: "button", id: `bank-${inv.id}` }, t("open_bank"))));
          window.open(session.payment_url, "_blank", "noopener,noreferrer");
          announce(t("pay_opened"));
        } catch (err) { alert.className = "alert"; alert.textContent = err.message; e.currentTarget.disabled = false; }
      } }, t("pay"))) : null);
  })));
}
