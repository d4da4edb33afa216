import { microFromDecimal, microFromNumber } from './stripe-value.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);

/** A usage-bearing line of a Stripe invoice, read from the webhook payload. */
export interface UsageLine {
  lineId: string;
  priceId: string | null;
  /** Known only when the payload embeds the price (API versions before 2025-03-31). */
  embeddedMeterId: string | null;
  /** true / false when the embedded price says; undefined when it must be asked. */
  metered: boolean | undefined;
  quantityMicro: bigint;
  /** ms */
  periodStart: number;
  periodEnd: number;
}

/**
 * The subscription lines of an invoice, old and new shapes alike: the price is
 * `pricing.price_details.price` (API ≥ 2025-03-31) or an embedded `price`/`plan` object; the
 * quantity is `quantity_decimal` when present (full precision) else `quantity`. Prorations are left
 * out: they bill a quantity change, not metered usage.
 */
export function usageLines(invoice: Json): UsageLine[] {
  const lines = isObject(invoice.lines) && Array.isArray(invoice.lines.data) ? invoice.lines.data : [];
  return lines.flatMap((line) => (isObject(line) ? toUsageLine(line) : []));
}

export function toUsageLine(line: Json): UsageLine[] {
  const lineId = str(line.id);
  const period = isObject(line.period) ? line.period : undefined;
  if (!lineId || !period || typeof period.start !== 'number' || typeof period.end !== 'number') return [];
  const parent = isObject(line.parent) ? line.parent : undefined;
  const details = parent && isObject(parent.subscription_item_details) ? parent.subscription_item_details : undefined;
  if (line.proration === true || details?.proration === true) return [];

  const pricing = isObject(line.pricing) ? line.pricing : undefined;
  const priceDetails = pricing && isObject(pricing.price_details) ? pricing.price_details : undefined;
  const embedded = isObject(line.price) ? line.price : isObject(line.plan) ? line.plan : undefined;
  const priceId = str(priceDetails?.price) ?? str(embedded?.id) ?? str(line.price);
  const recurring = embedded && isObject(embedded.recurring) ? embedded.recurring : undefined;
  const usageType = str(recurring?.usage_type) ?? str(embedded?.usage_type);

  let quantityMicro: bigint;
  try {
    const decimal = str(line.quantity_decimal);
    if (decimal !== null) quantityMicro = microFromDecimal(decimal);
    else if (typeof line.quantity === 'number') quantityMicro = microFromNumber(line.quantity);
    else return [];
  } catch {
    return [];
  }
  return [
    {
      lineId,
      priceId,
      embeddedMeterId: str(recurring?.meter),
      metered: usageType === null ? undefined : usageType === 'metered',
      quantityMicro,
      periodStart: period.start * 1000,
      periodEnd: period.end * 1000,
    },
  ];
}
