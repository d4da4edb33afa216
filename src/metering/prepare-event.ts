import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ExactNumber, stringifyJsonExact } from './exact-json.js';
import { parseEventTime } from './event-time.js';
import { contentHash, deriveIdempotencyKey } from './idempotency-key.js';
import { UsageEventShape } from './ingest-schemas.js';
import { quantityToMicro } from './quantity.js';
import type { LedgerEventInput, UsageSource } from '../store/metering-store.js';

/**
 * A validated event: already the ledger row, whose period, lateness and arrival the ingest service
 * fills in (one object per event on the hot path, not two).
 */
export type PreparedEvent = LedgerEventInput;

export type RejectionCode = 'invalid_event' | 'invalid_quantity' | 'invalid_ts' | 'ts_in_future' | 'meta_too_large' | 'tenant_mismatch';

export interface Rejection {
  code: RejectionCode;
  reason: string;
}

export interface PrepareLimits {
  /** How far ahead of the clock an event may be (default 5 minutes). */
  maxFutureMs: number;
  metaMaxBytes: number;
}

const checkEvent = TypeCompiler.Compile(UsageEventShape);

/**
 * Validates and normalises one event: exact shape (no coercion, no unknown fields), exact quantity,
 * event time, meta size; then its idempotency key (given or derived) and content fingerprint.
 * Returns a Rejection instead of throwing: a bad event is reported by index, the batch goes on.
 */
export function prepareEvent(raw: unknown, tenantId: string, now: number, limits: PrepareLimits, exact: boolean, source: UsageSource = 'api'): PreparedEvent | Rejection {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof ExactNumber) {
    return { code: 'invalid_event', reason: 'an event must be a JSON object' };
  }
  if (!checkEvent.Check(raw)) {
    const first = checkEvent.Errors(raw).First();
    const where = first ? first.path.replace(/^\//, '') || 'event' : 'event';
    return { code: 'invalid_event', reason: `${where}: ${first?.message ?? 'invalid'}` };
  }
  const e = raw as UsageEventShape;
  if (e.tenantId !== undefined && e.tenantId !== tenantId) return { code: 'tenant_mismatch', reason: 'tenantId is not the tenant of this request' };

  const quantity = quantityToMicro(e.quantity);
  if (typeof quantity !== 'bigint') return { code: 'invalid_quantity', reason: quantity.problem };

  const ts = parseEventTime(e.ts);
  if (typeof ts !== 'number') return { code: 'invalid_ts', reason: ts.problem };
  if (ts > now + limits.maxFutureMs) {
    return { code: 'ts_in_future', reason: `ts is more than ${Math.round(limits.maxFutureMs / 1000)} s ahead of the server clock` };
  }

  let meta: string | null = null;
  if (e.meta !== undefined) {
    if ((e.meta as unknown) instanceof ExactNumber) return { code: 'invalid_event', reason: 'meta: must be a JSON object' };
    meta = stringifyJsonExact(e.meta, exact);
    // UTF-8 is at most 3 bytes per UTF-16 unit: only long texts need the exact count.
    if (meta.length * 3 > limits.metaMaxBytes && Buffer.byteLength(meta) > limits.metaMaxBytes) {
      return { code: 'meta_too_large', reason: `meta is larger than ${limits.metaMaxBytes} bytes` };
    }
  }

  const resourceId = e.resourceId ?? null;
  const key = e.idempotencyKey ?? deriveIdempotencyKey(tenantId, e.metric, e.customerRef, resourceId, ts);
  return {
    tenantId,
    idempotencyKey: key,
    metric: e.metric,
    customerRef: e.customerRef,
    resourceId,
    ts,
    quantityMicro: quantity,
    meta,
    contentHash: contentHash(key, e.metric, e.customerRef, resourceId, ts, quantity),
    // Filled in by the ingest service once the customer's period rule is known.
    periodStart: 0,
    periodEnd: 0,
    late: false,
    source,
    receivedAt: now,
  };
}

export function isRejection(value: PreparedEvent | Rejection): value is Rejection {
  return (value as Rejection).code !== undefined;
}
