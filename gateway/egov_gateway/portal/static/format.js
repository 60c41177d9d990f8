// Money and dates as people read them, in kk/ru/en, with the browser's Intl.
// Amounts are held in tiyn and always shown in tenge: 149 416,00 ₸ (kk, ru), ₸149,416.00 (en).
// Chromium builds without Kazakh locale data fall back to a placeholder pattern ("2026 M12 4"):
// the Kazakh date is then written with explicit month names.
const LOCALES = { kk: "kk-KZ", ru: "ru-RU", en: "en-GB" };
const KK_MONTHS = ["қаңтар", "ақпан", "наурыз", "сәуір", "мамыр", "маусым", "шілде", "тамыз", "қыркүйек", "қазан", "қараша", "желтоқсан"];

export function locale(lang) { return LOCALES[lang] || LOCALES.en; }

// without Kazakh data Chromium writes "164,350.00": Kazakhstan groups and marks decimals as
// Russian does (164 350,00), so those rules are borrowed then
const KK_NUMBERS = (() => {
  try { return /,50/.test(new Intl.NumberFormat("kk-KZ", { minimumFractionDigits: 2 }).format(1234.5)); } catch { return false; }
})();

export function money(tiyn, lang) {
  const kzt = Number(tiyn || 0) / 100;
  const fmt = new Intl.NumberFormat(lang === "kk" && !KK_NUMBERS ? "ru-RU" : locale(lang), { style: "currency", currency: "KZT", currencyDisplay: "narrowSymbol", minimumFractionDigits: 2, maximumFractionDigits: 2 });
  let out = fmt.format(kzt);
  // without Kazakh data the symbol may come out as the code
  out = out.replace(/KZT\s?/, "₸");
  if (lang !== "en" && !/₸$/.test(out.trim())) {
    // "₸149 416,00" → "149 416,00 ₸" as written in Kazakhstan
    out = `${out.replace("₸", "").trim()}\u00a0₸`;
  }
  return out;
}

function kkUsable() {
  // a locale without data formats months as "M12"
  try {
    return !/M\d/.test(new Intl.DateTimeFormat("kk-KZ", { dateStyle: "long" }).format(new Date(2026, 11, 4)));
  } catch { return false; }
}
const KK_OK = kkUsable();

function parse(value) {
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(String(value));
  const d = new Date(dateOnly ? `${value}T00:00:00` : value);
  return { d, dateOnly };
}

function kkDate(d) { return `${d.getDate()} ${KK_MONTHS[d.getMonth()]} ${d.getFullYear()} ж.`; }
function hhmm(d) { return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`; }

// a calendar date (no time of day) or a moment (date and time), per locale
export function dateText(value, lang) {
  if (!value) return "—";
  const { d, dateOnly } = parse(value);
  if (Number.isNaN(d.getTime())) return String(value);
  if (lang === "kk" && !KK_OK) return dateOnly ? kkDate(d) : `${kkDate(d)}, ${hhmm(d)}`;
  return dateOnly ? d.toLocaleDateString(locale(lang), { day: "numeric", month: "long", year: "numeric" })
    : d.toLocaleString(locale(lang), { day: "numeric", month: "long", year: "numeric", hour: "2-digit", minute: "2-digit" });
}
