/**
 * Meter event values. Stripe's recording-usage guide: "The numerical usage value in the payload only
 * accepts whole number values" (negative ones included: "You can also fix incorrectly recorded usage
 * data by recording negative quantities"); since 2026-04-22.dahlia a value with more than 15
 * significant digits is a 400 (`meter_event_value_too_many_digits`). Decimals are a private preview
 * ("Interested in using decimal values? Contact us"), so the fake accepts them only when asked to.
 */
export const MAX_VALUE_DIGITS = 15;

export type ValueCheck = { ok: true } | { ok: false; code: 'meter_event_invalid_value' | 'meter_event_value_too_many_digits'; message: string };

export function checkMeterValue(raw: string, acceptDecimals: boolean): ValueCheck {
  const pattern = acceptDecimals ? /^[+-]?(\d+(\.\d*)?|\.\d+)$/ : /^[+-]?\d+$/;
  if (!pattern.test(raw.trim()))
    return {
      ok: false,
      code: 'meter_event_invalid_value',
      message: acceptDecimals
        ? `The value in the event payload must be a number. Received ${raw}.`
        : `The value in the event payload must be a whole number. Received ${raw}.`,
    };
  // Digits from the first non-zero one; trailing zeros after a decimal point do not count.
  const body = raw.trim().replace(/^[+-]/, '');
  const trimmed = body.includes('.') ? body.replace(/0+$/, '').replace(/\.$/, '') : body;
  const significant = trimmed.replace('.', '').replace(/^0+/, '').length;
  if (significant > MAX_VALUE_DIGITS)
    return { ok: false, code: 'meter_event_value_too_many_digits', message: `The value in the event payload can have at most ${MAX_VALUE_DIGITS} digits. Received ${raw}.` };
  return { ok: true };
}

/** Exact decimal addition (strings in, string out), so a sum of 0.1s stays exact. */
export function addDecimal(a: string, b: string): string {
  const [ai, as] = toScaled(a);
  const [bi, bs] = toScaled(b);
  const scale = Math.max(as, bs);
  const sum = ai * 10n ** BigInt(scale - as) + bi * 10n ** BigInt(scale - bs);
  return fromScaled(sum, scale);
}

function toScaled(v: string): [bigint, number] {
  const s = v.trim().replace(/^\+/, '');
  const negative = s.startsWith('-');
  const body = negative ? s.slice(1) : s;
  const [int = '0', frac = ''] = body.split('.');
  const n = BigInt((int || '0') + frac);
  return [negative ? -n : n, frac.length];
}

function fromScaled(n: bigint, scale: number): string {
  if (scale === 0) return n.toString();
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}
