import type { BillingEventInput, EventSource } from '../store/store.js';
import { invalidEvent } from './webhook-errors.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.length > 0 ? v : null);
const int = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) ? v : null);

/**
 * Checks the envelope of a signed body and pulls out the fields the store indexes. The raw JSON is
 * stored unchanged beside them, so nothing Stripe sent is lost to this projection.
 */
export function parseStripeEvent(raw: string, tenantId: string, source: EventSource, receivedAt: number): BillingEventInput {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidEvent('body is not valid JSON');
  }
  if (!isObject(parsed)) throw invalidEvent('body is not a JSON object');
  if (parsed.object !== 'event') throw invalidEvent('"object" is not "event"');
  const id = str(parsed.id);
  if (!id || id.length > 255) throw invalidEvent('"id" is missing');
  const type = str(parsed.type);
  if (!type || type.length > 255) throw invalidEvent('"type" is missing');
  const created = int(parsed.created);
  if (created === null || created < 0) throw invalidEvent('"created" is not a unix timestamp');
  if (!isObject(parsed.data) || !isObject(parsed.data.object)) throw invalidEvent('"data.object" is missing');
  const object = parsed.data.object;

  return {
    tenantId,
    eventId: id,
    type,
    created,
    livemode: parsed.livemode === true,
    apiVersion: str(parsed.api_version),
    account: str(parsed.account),
    objectType: str(object.object),
    objectId: str(object.id),
    customer: customerOf(object),
    amount: amountOf(object),
    currency: str(object.currency)?.toLowerCase() ?? null,
    status: str(object.status),
    refId: refOf(object),
    source,
    receivedAt,
    payload: raw,
  };
}

function customerOf(object: Json): string | null {
  if (object.object === 'customer') return str(object.id);
  const c = object.customer;
  if (isObject(c)) return str(c.id);
  return str(c);
}

const idOf = (v: unknown): string | null => (isObject(v) ? str(v.id) : str(v));

/** The object this one is about, for joins without parsing payloads: see `BillingEventInput.refId`. */
function refOf(object: Json): string | null {
  switch (object.object) {
    case 'refund':
    case 'dispute':
    case 'radar.early_fraud_warning':
      return idOf(object.charge);
    case 'charge':
      return idOf(object.payment_intent);
    case 'invoice': {
      // API ≥ 2025-03-31 moved the subscription under parent.subscription_details.
      const parent = isObject(object.parent) ? object.parent : undefined;
      const details = parent && isObject(parent.subscription_details) ? parent.subscription_details : undefined;
      return idOf(details?.subscription) ?? idOf(object.subscription);
    }
    case 'subscription_item':
      return idOf(object.subscription);
    default:
      return null;
  }
}

/**
 * The amount that matters for each object, in minor units. An invoice counts what was paid once it
 * is paid and what is due before; a checkout session its total; a credit note its total.
 */
function amountOf(object: Json): number | null {
  switch (object.object) {
    case 'invoice':
      return object.status === 'paid' ? int(object.amount_paid) : int(object.amount_due);
    case 'checkout.session':
      return int(object.amount_total);
    case 'credit_note':
      return int(object.total);
    default:
      return int(object.amount);
  }
}
