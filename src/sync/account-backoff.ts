import type { PushFailure } from './stripe-meter-gateway.js';

/** Consecutive 5xx/timeouts on one account after which the whole account waits, not just the item. */
const ACCOUNT_FAILURES_BEFORE_PAUSE = 3;
const MAX_ACCOUNT_PAUSE_MS = 5 * 60_000;
const MAX_ITEM_BACKOFF_MS = 15 * 60_000;

/**
 * Backoff per Stripe account (tenant × mode), in this replica's memory; items carry their own
 * durable `next_attempt_at`, which every replica honours. A 429 pauses the account for its
 * Retry-After; a run of server errors pauses it exponentially. Other accounts never wait.
 */
export class AccountBackoff {
  private readonly accounts = new Map<string, { failures: number; blockedUntil: number }>();

  blockedUntil(account: string, now: number): number | undefined {
    const state = this.accounts.get(account);
    return state && state.blockedUntil > now ? state.blockedUntil : undefined;
  }

  succeeded(account: string): void {
    const state = this.accounts.get(account);
    if (state) state.failures = 0;
  }

  /** Records a failed call; returns until when the account is paused, if it is. */
  failed(account: string, failure: PushFailure, now: number): number | undefined {
    const state = this.accounts.get(account) ?? { failures: 0, blockedUntil: 0 };
    this.accounts.set(account, state);
    if (failure.kind === 'rate_limited') {
      state.blockedUntil = Math.max(state.blockedUntil, now + (failure.retryAfterMs ?? 1000));
      return state.blockedUntil;
    }
    if (failure.kind !== 'retryable') return undefined;
    state.failures += 1;
    if (state.failures < ACCOUNT_FAILURES_BEFORE_PAUSE) return undefined;
    const pause = Math.min(1000 * 2 ** (state.failures - ACCOUNT_FAILURES_BEFORE_PAUSE), MAX_ACCOUNT_PAUSE_MS);
    state.blockedUntil = Math.max(state.blockedUntil, now + pause);
    return state.blockedUntil;
  }
}

/** When a failing item is tried again: 1 s, 2 s, 4 s … up to 15 minutes. */
export function itemBackoffMs(consecutiveFailures: number): number {
  return Math.min(1000 * 2 ** Math.max(0, consecutiveFailures - 1), MAX_ITEM_BACKOFF_MS);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function runPool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
