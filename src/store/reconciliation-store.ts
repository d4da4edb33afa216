/**
 * Persistence for reconciliation with Stripe and invoice parity (src/reconciliation/); part of
 * `Store` as `store.reconciliation`. Quantities are integer micro-units (BigInt), like metering.
 */

export type ReconcileStatus = 'ok' | 'drift' | 'error';

export interface ReconcileRunRecord {
  id: string;
  tenantId: string;
  trigger: 'schedule' | 'api' | 'cli';
  status: 'running' | 'completed' | 'failed';
  checked: number;
  drifted: number;
  failed: number;
  error: string | null;
  startedAt: number;
  finishedAt: number | null;
}

export interface ReconcileResultRecord {
  tenantId: string;
  mappingId: string;
  customerRef: string;
  periodStart: number;
  periodEnd: number;
  metric: string;
  aggregation: string;
  meterId: string | null;
  stripeCustomerId: string;
  localMicro: bigint;
  /** null when Stripe could not be asked (status error). */
  stripeMicro: bigint | null;
  /** |local − stripe| / max(|stripe|, 1 unit), in parts per million. */
  driftPpm: number | null;
  status: ReconcileStatus;
  error: string | null;
  runId: string;
  checkedAt: number;
}

export type CorrectionStatus = 'proposed' | 'applied' | 'dismissed' | 'resolved';

export interface CorrectionRecord {
  id: string;
  tenantId: string;
  mappingId: string;
  customerRef: string;
  periodStart: number;
  periodEnd: number;
  stripeCustomerId: string;
  localMicro: bigint;
  stripeMicro: bigint;
  /** local − stripe: what Stripe lacks (positive) or holds too much of (negative). */
  deltaMicro: bigint;
  /** What applying does, in words an operator can check. */
  action: string;
  status: CorrectionStatus;
  /** How many runs saw this drift while the proposal was open. */
  seenRuns: number;
  createdAt: number;
  updatedAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  decisionReason: string | null;
}

export type ParityStatus = 'ok' | 'mismatch' | 'unmapped' | 'unknown_customer' | 'error';

export interface ParityCheckRecord {
  tenantId: string;
  invoiceId: string;
  lineId: string;
  eventId: string;
  customerRef: string | null;
  stripeCustomerId: string;
  mappingId: string | null;
  metric: string | null;
  priceId: string | null;
  periodStart: number;
  periodEnd: number;
  invoiceMicro: bigint;
  localMicro: bigint | null;
  driftPpm: number | null;
  status: ParityStatus;
  detail: string | null;
  checkedAt: number;
}

export interface ResultQuery {
  /** Results whose period overlaps [from, to). */
  from?: number;
  to?: number;
  status?: ReconcileStatus;
  mappingId?: string;
  customerRef?: string;
  /** Continue after this row, in the report's order (period start newest first, then mapping, customer). */
  after?: { periodStart: number; mappingId: string; customerRef: string };
  limit: number;
}

export interface ReconciliationStore {
  insertRun(run: ReconcileRunRecord): Promise<void>;
  finishRun(tenantId: string, id: string, patch: Pick<ReconcileRunRecord, 'status' | 'checked' | 'drifted' | 'failed' | 'error' | 'finishedAt'>): Promise<void>;
  getRun(tenantId: string, id: string): Promise<ReconcileRunRecord | undefined>;
  listRuns(tenantId: string, limit: number): Promise<ReconcileRunRecord[]>;
  /** Replaces the latest result of its (mapping, customer, period). */
  putResult(result: ReconcileResultRecord): Promise<void>;
  listResults(tenantId: string, query: ResultQuery): Promise<ReconcileResultRecord[]>;
  /**
   * Records a drift as the one open proposal of its (mapping, customer, period): a new proposal, or
   * the open one refreshed with the latest figures (counted as seen once more). Returns it and
   * whether it is new.
   */
  proposeCorrection(correction: CorrectionRecord): Promise<{ correction: CorrectionRecord; created: boolean }>;
  /** The open proposal of a key is closed as `resolved` when the drift is gone. */
  resolveOpenCorrection(tenantId: string, mappingId: string, customerRef: string, periodStart: number, now: number): Promise<boolean>;
  getCorrection(tenantId: string, id: string): Promise<CorrectionRecord | undefined>;
  listCorrections(tenantId: string, query: { status?: CorrectionStatus; limit: number }): Promise<CorrectionRecord[]>;
  /** proposed → applied | dismissed, once; undefined when it is not open any more. */
  decideCorrection(tenantId: string, id: string, decision: { status: 'applied' | 'dismissed'; actor: string; reason: string | null; now: number }): Promise<CorrectionRecord | undefined>;
  /** Local customers mapped to a Stripe customer (`PUT /v1/customers/{ref}` stripeCustomerId). */
  customerRefsForStripeCustomer(tenantId: string, stripeCustomerId: string): Promise<string[]>;
  putParityCheck(check: ParityCheckRecord): Promise<void>;
  listParityChecks(tenantId: string, query: { invoiceId?: string; status?: ParityStatus; limit: number }): Promise<ParityCheckRecord[]>;
}
