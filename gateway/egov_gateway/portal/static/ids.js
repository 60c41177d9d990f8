// IIN / BIN checks in the browser, the same rules as meshkit.ids (Python): 12 digits, the
// structure (IIN: birth date and century/sex digit; BIN: month, entity and kind digits) and the
// official mod-11 check digit. A wrong number is refused before anything is sent; the gateway
// checks again. Test vectors shared with the Python tests: gateway/tests/data/id_vectors.json.
const W1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const W2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2];

// the check digit of the first 11 digits, or null when it cannot be computed (never issued)
export function checkDigit(first11) {
  if (!/^[0-9]{11}$/.test(first11)) throw new Error("checkDigit needs 11 digits");
  const d = Array.from(first11, Number);
  let r = d.reduce((s, x, i) => s + x * W1[i], 0) % 11;
  if (r === 10) {
    r = d.reduce((s, x, i) => s + x * W2[i], 0) % 11;
    if (r === 10) return null;
  }
  return r;
}

function checked(value) {
  const c = checkDigit(value.slice(0, 11));
  return c !== null && c === Number(value[11]);
}

// null when valid, else why: "length" (not 12 digits) or "invalid" (structure or check digit)
export function iinProblem(value, today = new Date()) {
  const s = String(value ?? "");
  if (!/^[0-9]{12}$/.test(s)) return "length";
  const century = { 1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000 }[s[6]];
  if (!century) return "invalid";
  const y = century + Number(s.slice(0, 2));
  const m = Number(s.slice(2, 4));
  const d = Number(s.slice(4, 6));
  const born = new Date(Date.UTC(y, m - 1, d));
  if (born.getUTCFullYear() !== y || born.getUTCMonth() !== m - 1 || born.getUTCDate() !== d) return "invalid";
  const now = new Date(Date.UTC(today.getFullYear(), today.getMonth(), today.getDate()));
  if (born > now) return "invalid";
  return checked(s) ? null : "invalid";
}

export function binProblem(value) {
  const s = String(value ?? "");
  if (!/^[0-9]{12}$/.test(s)) return "length";
  const month = Number(s.slice(2, 4));
  if (month < 1 || month > 12) return "invalid";
  if (!"456".includes(s[4]) || !"012".includes(s[5])) return "invalid";
  return checked(s) ? null : "invalid";
}

// by the schema's format: iin, bin, or iin-or-bin (either passes)
export function idProblem(value, format, today = new Date()) {
  if (format === "bin") return binProblem(value);
  if (format === "iin-or-bin") {
    const a = iinProblem(value, today);
    const b = binProblem(value);
    return a === null || b === null ? null : (a === "length" ? "length" : "invalid");
  }
  return iinProblem(value, today);
}
