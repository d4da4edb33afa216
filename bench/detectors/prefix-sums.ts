/**
 * Bench-only workaround for a store performance problem (reported in docs/BENCHMARKS.md):
 * `sumBucketsByPrefix` filters `metric` by a RANGE (`metric >= prefix AND metric < prefix || U+FFFF`),
 * so SQLite walks the primary key (tenant_id, metric, bucket_start) over EVERY bucket of every
 * matching metric and filters `bucket_start` row by row. Its cost grows with the retained history
 * (60 days): ~0.08 ms per call on day 1, ~1 ms by day 9, and charge_failure_rate calls it once per
 * minute of every candidate hour (~25,000 calls per simulated day here), which makes a 36-day run
 * take hours instead of minutes.
 *
 * With `install`, the app's store answers the same question with `metric IN (…known metrics of the
 * prefix…)`, which the primary key serves as one short range per metric. Same rows, same sums, same
 * result map (only metrics with buckets in the range): detector decisions are unchanged — run with
 * `--prefix-sums=store` to use the store's own query and compare. The metric names are learned
 * from the aggregation batches the engine writes (bucket deltas and refund facts), read through a
 * second, read-only SQLite connection (WAL: it sees every committed batch).
 */
import Database from 'better-sqlite3';
import type { Store } from '../../src/store/store.js';
import type { AggregationBatch } from '../../src/store/detector-store.js';

export function installIndexedPrefixSums(store: Store, sqliteFile: string): () => void {
  const ds = store.detectors;
  const db = new Database(sqliteFile, { readonly: true, fileMustExist: true });
  const metrics = new Map<string, Set<string>>();
  const statements = new Map<number, Database.Statement>();
  const remember = (tenantId: string, metric: string) => {
    let set = metrics.get(tenantId);
    if (!set) metrics.set(tenantId, (set = new Set()));
    set.add(metric);
  };

  const apply = ds.applyAggregation.bind(ds);
  ds.applyAggregation = async (batch: AggregationBatch, now: number) => {
    const ok = await apply(batch, now);
    if (ok) {
      for (const b of batch.buckets) remember(b.tenantId, b.metric);
      for (const r of batch.refunds) remember(r.tenantId, `refund:${r.currency}`);
    }
    return ok;
  };

  ds.sumBucketsByPrefix = async (tenantId: string, prefix: string, fromMs: number, toMs: number) => {
    const upper = `${prefix}\uffff`;
    const names = [...(metrics.get(tenantId) ?? [])].filter((m) => m >= prefix && m < upper).sort();
    const out = new Map<string, { count: number; amount: number }>();
    if (names.length === 0) return out;
    let stmt = statements.get(names.length);
    if (!stmt) {
      stmt = db.prepare(
        `select metric, sum(count) as count, sum(amount) as amount from detector_buckets
         where tenant_id = ? and metric in (${names.map(() => '?').join(', ')}) and bucket_start >= ? and bucket_start < ?
         group by metric`,
      );
      statements.set(names.length, stmt);
    }
    for (const row of stmt.all(tenantId, ...names, fromMs, toMs) as { metric: string; count: number; amount: number }[]) {
      out.set(row.metric, { count: Number(row.count), amount: Number(row.amount) });
    }
    return out;
  };

  return () => db.close();
}
