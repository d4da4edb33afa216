import type { Account } from './account.js';

/** "Keys are eligible to be removed … after they're at least 24 hours old." */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export type IdempotencyCheck = { kind: 'new' } | { kind: 'replay'; status: number; body: unknown } | { kind: 'mismatch' };

/**
 * Stripe replays the first result for a key when the request is the same, and refuses the key with
 * other parameters. "The same" here: method, path and the raw body (the SDK resends them byte for byte).
 */
export function checkIdempotency(account: Account, key: string, fingerprint: string, nowMs: number): IdempotencyCheck {
  for (const [k, result] of account.idempotency) if (result.expiresAtMs <= nowMs) account.idempotency.delete(k);
  const seen = account.idempotency.get(key);
  if (seen === undefined) return { kind: 'new' };
  if (seen.fingerprint !== fingerprint) return { kind: 'mismatch' };
  return { kind: 'replay', status: seen.status, body: seen.body };
}

/** Only successful results are kept (see README: Stripe also keeps errors of an executed endpoint). */
export function saveIdempotentResult(account: Account, key: string, fingerprint: string, status: number, body: unknown, nowMs: number): void {
  if (status >= 300) return;
  account.idempotency.set(key, { fingerprint, status, body, expiresAtMs: nowMs + IDEMPOTENCY_TTL_MS });
}
