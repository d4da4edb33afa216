import type { Clock } from '../shared/clock.js';

/**
 * A token bucket per tenant, in memory: each replica enforces it for the traffic it sees. Over the
 * limit the caller answers 429 with Retry-After and Stripe retries later, so nothing is lost.
 */
export class TenantRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  /** 0 when allowed, else the whole seconds to wait before a token is available. */
  take(tenantId: string): number {
    const now = this.clock.now();
    let bucket = this.buckets.get(tenantId);
    if (!bucket) {
      if (this.buckets.size > 100_000) this.buckets.clear();
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(tenantId, bucket);
    }
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.ratePerSecond);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.ratePerSecond));
  }
}
