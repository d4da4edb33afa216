/** What reconciliation needs to know of a Stripe-sync mapping (src/sync owns them). */
export interface ReconcileMapping {
  id: string;
  tenantId: string;
  metric: string;
  aggregation: 'sum' | 'max' | 'last';
  meterEventName: string;
  meterId: string | null;
}

export interface MappingDirectory {
  /** The tenant's enabled mappings. */
  list(tenantId: string): Promise<ReconcileMapping[]>;
  /** Tell the sync that Stripe holds `acceptedMicro` for this key, so it pushes the difference (see SyncStore.realignAccepted). */
  realign(key: { tenantId: string; mappingId: string; customerRef: string; periodStart: number; stripeCustomerId: string }, acceptedMicro: bigint, now: number): Promise<'realigned' | 'busy' | 'missing'>;
}

const MICRO = 1_000_000n;

/**
 * What Stripe should hold for a counter: its sum for sum meters, its max or last value for `last`
 * meters, in whole units — Stripe meter values are whole numbers, so the sync pushes the whole part
 * (src/sync/push-plan.ts `wholeUnits`) and a fraction below one unit is never a drift.
 */
export function pushedValue(aggregation: ReconcileMapping['aggregation'], counter: { sumMicro: bigint; maxMicro: bigint | null; lastMicro: bigint | null }): bigint {
  const value = aggregation === 'sum' ? counter.sumMicro : aggregation === 'max' ? (counter.maxMicro ?? 0n) : (counter.lastMicro ?? 0n);
  return (value / MICRO) * MICRO;
}
