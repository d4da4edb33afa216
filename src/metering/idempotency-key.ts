import { hash } from 'node:crypto';

/**
 * Idempotency keys, scoped per tenant by the unique (tenant_id, idem_key) index.
 *
 * A derived key is `d_` + the event time in fixed-width base32 + 132 bits of SHA-256 over the
 * tenant, metric, customer, resource and UTC millisecond. The time prefix keeps the unique index's
 * inserts at its right edge (random keys scatter them: measured 3–4× slower on SQLite). Control
 * characters are refused in every input, so the NUL separators cannot be forged.
 *
 * A client key is used as given. If a client later sends the key we derived for an event, it is
 * the same key: a retry that copies our key back dedupes instead of counting twice.
 */
const TIME_WIDTH = 9; // base32 digits: epoch ms up to the year 3084

export function deriveIdempotencyKey(tenantId: string, metric: string, customerRef: string, resourceId: string | null, tsMs: number): string {
  const digest = hash('sha256', `${tenantId}\u0000${metric}\u0000${customerRef}\u0000${resourceId ?? ''}\u0000${tsMs}`, 'base64url');
  return `d_${tsMs.toString(32).padStart(TIME_WIDTH, '0')}${digest.slice(0, 22)}`;
}

const DERIVED_KEY = /^d_[0-9a-v]{9}[A-Za-z0-9_-]{22}$/;

/**
 * What "the same event" means for a reused key: the fields that decide what is counted where.
 * `meta` is left out on purpose: clients add attempt numbers or send times to it on retries.
 * A key in the derived format already stands for (tenant, metric, customer, resource, ts), so only
 * the quantity can still differ: its fingerprint is the quantity itself (one hash less per event,
 * and a client echoing our derived key back with the same event still gets `duplicate`).
 */
export function contentHash(key: string, metric: string, customerRef: string, resourceId: string | null, tsMs: number, quantityMicro: bigint): string {
  if (key.length === 33 && DERIVED_KEY.test(key)) return `q${quantityMicro}`;
  return hash('sha256', `${metric}\u0000${customerRef}\u0000${resourceId ?? ''}\u0000${tsMs}\u0000${quantityMicro}`, 'base64url').slice(0, 16);
}
