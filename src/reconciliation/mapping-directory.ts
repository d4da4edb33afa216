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
}

/** The counter value a mapping pushes: sum for sum meters, the max or the last value for `last` meters. */
export function pushedValue(aggregation: ReconcileMapping['aggregation'], counter: { sumMicro: bigint; maxMicro: bigint | null; lastMicro: bigint | null }): bigint {
  if (aggregation === 'sum') return counter.sumMicro;
  if (aggregation === 'max') return counter.maxMicro ?? 0n;
  return counter.lastMicro ?? 0n;
}
