import type { RollupKey, RollupRecord } from './metering-store.js';

export const HOUR_MS = 3_600_000;

/** What an hourly rollup needs of a ledger event. */
export type RollupEvent = Pick<RollupRecord, 'tenantId' | 'metric' | 'customerRef'> & { ts: number; quantityMicro: bigint; late: boolean };

/**
 * THE definition of an hourly rollup, shared by the ingest (which writes rollups) and the ledger fold
 * (which checks them): on-time events add to sum and count, late ones to the late columns. Rollups
 * are keyed in `rollups` by `rollupId`.
 */
export function addToRollup(rollups: Map<string, RollupRecord>, e: RollupEvent): void {
  const hourStart = Math.floor(e.ts / HOUR_MS) * HOUR_MS;
  // Inline rather than rollupId(…): this runs per ingested event and needs no key object.
  const id = `${e.tenantId}\u0000${hourStart}\u0000${e.metric}\u0000${e.customerRef}`;
  let r = rollups.get(id);
  if (!r) {
    r = { tenantId: e.tenantId, hourStart, metric: e.metric, customerRef: e.customerRef, sumMicro: 0n, eventCount: 0, lateSumMicro: 0n, lateCount: 0 };
    rollups.set(id, r);
  }
  if (e.late) {
    r.lateSumMicro += e.quantityMicro;
    r.lateCount += 1;
  } else {
    r.sumMicro += e.quantityMicro;
    r.eventCount += 1;
  }
}

/** The key `addToRollup` files a rollup under. */
export function rollupId(r: RollupKey): string {
  return `${r.tenantId}\u0000${r.hourStart}\u0000${r.metric}\u0000${r.customerRef}`;
}
