import type { MeteringConfig } from '../config.js';
import type { Metrics } from '../ops/metrics.js';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import { AdjustmentService } from './adjustment-service.js';
import { CustomerService } from './customer-service.js';
import { ImportService } from './import-service.js';
import { IngestBatcher } from './ingest-batcher.js';
import { IngestService } from './ingest-service.js';
import { PeriodResolver } from './period-resolver.js';
import { ReplayService } from './replay-service.js';
import { UsageQuery } from './usage-query.js';

/** The metering services, as the HTTP routes and the CLI use them. */
export interface Metering {
  config: MeteringConfig;
  periods: PeriodResolver;
  batcher: IngestBatcher;
  ingest: IngestService;
  query: UsageQuery;
  adjustments: AdjustmentService;
  customers: CustomerService;
  replay: ReplayService;
  imports: ImportService;
}

/** PostgreSQL: a second group in flight only for this much waiting work (ingest-batcher.ts). */
const PARALLEL_GROUP_MIN_EVENTS = 500;

export function createMetering(store: Store, clock: Clock, ids: IdGenerator, config: MeteringConfig, metrics?: Metrics): Metering {
  const periods = new PeriodResolver(store, clock, { cacheMs: config.periodCacheMs, maxEntries: 100_000 });
  const batcher = new IngestBatcher(
    (events) => store.metering.writeEvents(events, { now: clock.now(), newAdjustmentId: () => ids.next('adj') }),
    {
      maxGroupEvents: config.groupMaxEvents,
      // SQLite has one connection: a second transaction would only queue behind the first.
      maxInFlight: store.dialect === 'sqlite' ? 1 : (config.concurrency ?? 4),
      parallelGroupMinEvents: PARALLEL_GROUP_MIN_EVENTS,
      maxQueuedEvents: config.maxQueuedEvents,
    },
    metrics && {
      groupCommitted: (_requests, events, seconds) => {
        metrics.usageCommitEvents.observe(events);
        metrics.usageCommitDuration.observe(seconds);
      },
      queueDepth: (events) => metrics.usageQueueEvents.set(events),
    },
  );
  const ingest = new IngestService(batcher, periods, clock, { maxFutureMs: config.maxFutureMs, metaMaxBytes: config.metaMaxBytes, latenessMs: config.latenessMs }, metrics);
  return {
    config,
    periods,
    batcher,
    ingest,
    query: new UsageQuery(store.metering, periods, clock),
    adjustments: new AdjustmentService(store.metering, periods, ids, clock),
    customers: new CustomerService(store.metering, periods, clock),
    replay: new ReplayService(store.metering, clock),
    imports: new ImportService(ingest, store.metering, ids, clock, { chunkSize: Math.min(1000, config.maxEventsPerRequest), maxRecordBytes: Math.max(65_536, config.metaMaxBytes * 2) }),
  };
}
