/**
 * Stripe reports meter values as JSON numbers (`aggregated_value`, invoice line `quantity`) and
 * decimal strings (`quantity_decimal`). Both become integer micro-units like our counters: a number
 * through its shortest decimal form (what JSON carried), never by multiplying a float.
 */
export function microFromNumber(value: number): bigint {
  if (!Number.isFinite(value)) throw new Error(`not a finite number: ${value}`);
  return microFromDecimal(numberToPlainDecimal(value));
}

export function microFromDecimal(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${text}`);
  const [, sign, whole, frac = ''] = m;
  // Beyond 6 decimals Stripe's value cannot be represented in our unit: round half up, say so nowhere (sub-micro).
  const digits = frac.padEnd(7, '0');
  let micro = BigInt(whole!) * 1_000_000n + BigInt(digits.slice(0, 6));
  if (Number(digits[6]) >= 5) micro += 1n;
  return sign === '-' ? -micro : micro;
}

/** 1e-7 → "0.0000001", 1.5e21 → "1500000000000000000000": the exact decimal of the shortest round-trip form. */
function numberToPlainDecimal(value: number): string {
  const text = String(value);
  if (!/e/i.test(text)) return text;
  const [mantissa, expText] = text.toLowerCase().split('e') as [string, string];
  const exp = Number(expText);
  const negative = mantissa.startsWith('-');
  const [intPart, fracPart = ''] = mantissa.replace('-', '').split('.') as [string, string?];
  const digits = intPart + fracPart;
  const point = intPart.length + exp;
  let out: string;
  if (point <= 0) out = `0.${'0'.repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + '0'.repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return negative ? `-${out}` : out;
}

/** Micro-units back to an exact decimal string: 100400000n → "100.4". */
export function microToDecimal(micro: bigint): string {
  const negative = micro < 0n;
  const v = negative ? -micro : micro;
  const whole = v / 1_000_000n;
  const frac = (v % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}
