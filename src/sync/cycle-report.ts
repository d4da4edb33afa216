import type { SyncMode } from '../store/sync-store.js';

/** One operation Stripe accepted during a cycle. */
export interface PushedOperation {
  mappingId: string;
  mode: SyncMode;
  customerRef: string;
  stripeCustomerId: string;
  eventName: string;
  periodStart: string;
  kind: 'event' | 'cancel';
  identifier: string;
  /** Units sent (event) or taken back (cancel), exact decimal text. */
  value: string;
  /** What Stripe holds for this customer and period afterwards. */
  total: string;
  /** Stripe already had it (a retry of an earlier attempt whose answer was lost). */
  duplicate: boolean;
}

export interface PushProblem {
  mappingId: string;
  mode: SyncMode;
  customerRef: string;
  periodStart: string;
  kind: string;
  error: string;
}

export interface CycleReport {
  startedAt: string;
  /** Targets were re-read from the counters in this cycle (one replica at a time does it). */
  refreshed: boolean;
  claimed: number;
  pushed: PushedOperation[];
  failures: PushProblem[];
  tooOld: PushProblem[];
  /** Items put off because their account is backing off. */
  deferred: number;
  calls: Record<SyncMode, number>;
  warnings: string[];
}

export function emptyReport(now: number): CycleReport {
  return { startedAt: new Date(now).toISOString(), refreshed: false, claimed: 0, pushed: [], failures: [], tooOld: [], deferred: 0, calls: { live: 0, shadow: 0 }, warnings: [] };
}
