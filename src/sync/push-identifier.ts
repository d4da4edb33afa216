import { createHash } from 'node:crypto';
import type { PushStateKey } from '../store/sync-store.js';

/**
 * The meter event identifier of one push step: a hash of (tenant, mode, customer, Stripe customer,
 * meter event name, period, step number, target total). The same step always gets the same
 * identifier, so a retry, a restart or a second replica re-sending it is deduplicated by Stripe
 * (24 h window); the step number keeps a total reached twice (up, down, up again) from reusing an
 * identifier Stripe has already seen. 51 characters (Stripe allows 100).
 */
export function pushIdentifier(key: PushStateKey, seq: number, totalMicro: bigint): string {
  const parts = [key.tenantId, key.mode, key.customerRef, key.stripeCustomerId, key.eventName, String(key.periodStart), String(seq), totalMicro.toString()];
  return `mw_${createHash('sha256').update(parts.join('\u001f')).digest('hex').slice(0, 48)}`;
}
