/**
 * A job step failed for a reason that may pass (a rate limit, a 5xx, a dropped connection): the
 * runner retries it after a backoff, up to its attempt limit. Any other error fails the job at once.
 */
export class RetryableJobError extends Error {
  constructor(
    message: string,
    /** What the server asked for (Retry-After), in milliseconds; the backoff never waits less. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'RetryableJobError';
  }
}

/**
 * Exponential backoff with jitter: attempt n waits between half and all of base × 2^(n−1) (capped),
 * and never less than the server's Retry-After. The jitter spreads replicas and tenants that failed
 * together, so they do not come back together.
 */
export function retryDelayMs(attempt: number, retryAfterMs: number | undefined, policy: { baseDelayMs: number; maxDelayMs: number }, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = Math.round(ceiling / 2 + (random() * ceiling) / 2);
  return Math.max(retryAfterMs ?? 0, jittered);
}
