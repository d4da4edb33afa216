import { mulberry32 } from './prng.js';

export type FaultKind = '500' | '503' | '429' | 'timeout' | 'drop' | 'drop_after_commit' | 'timeout_after_commit';

export const ALL_FAULT_KINDS: readonly FaultKind[] = ['500', '503', '429', 'timeout', 'drop', 'drop_after_commit', 'timeout_after_commit'];

export interface FaultPlan {
  seed: number;
  /** Probability in [0, 1] that a request (matching `paths`) gets a fault. */
  rate: number;
  kinds?: FaultKind[];
  /** `Retry-After` on 429s (default 1). */
  retryAfterSeconds?: number;
  /** How long a `timeout` fault holds the socket before closing it (default 30 000 ms). */
  holdMs?: number;
  /** Only paths matching this get faults (others still advance the sequence). */
  paths?: RegExp;
}

/**
 * Decides, request by request, whether to inject a fault. Every request draws exactly two numbers
 * whatever the outcome, so one seed gives one sequence of decisions over the order requests arrive.
 */
export class FaultDecider {
  private readonly next: () => number;
  private readonly kinds: readonly FaultKind[];

  constructor(readonly plan: FaultPlan) {
    if (!(plan.rate >= 0 && plan.rate <= 1)) throw new RangeError('fault rate must be within 0..1');
    this.next = mulberry32(plan.seed);
    this.kinds = plan.kinds && plan.kinds.length > 0 ? plan.kinds : ALL_FAULT_KINDS;
  }

  decide(path: string): FaultKind | null {
    const hit = this.next();
    const pick = this.next();
    if (this.plan.paths) {
      this.plan.paths.lastIndex = 0; // a /g or /y pattern must not carry state between requests
      if (!this.plan.paths.test(path)) return null;
    }
    if (hit >= this.plan.rate) return null;
    return this.kinds[Math.floor(pick * this.kinds.length)] ?? null;
  }

  get retryAfterSeconds(): number {
    return this.plan.retryAfterSeconds ?? 1;
  }

  get holdMs(): number {
    return this.plan.holdMs ?? 30_000;
  }
}
