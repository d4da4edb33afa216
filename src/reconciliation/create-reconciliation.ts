import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { IncidentService } from '../detectors/incident-service.js';
import type { BackgroundTask } from '../jobs/background-loop.js';
import { every } from '../jobs/every.js';
import { FeedConsumer } from '../jobs/feed-consumer.js';
import { createStripeClientFactory, type StripeClientFactory } from '../stripe/stripe-client.js';
import { InvoiceParity, PARITY_EVENT_TYPES } from './invoice-parity.js';
import type { MappingDirectory } from './mapping-directory.js';
import { ReconciliationService } from './reconciliation-service.js';
import { StripeMeterReader } from './stripe-meter-reader.js';

export const PARITY_CURSOR = 'sync.invoice-parity';
const SCHEDULE_LEASE = 'reconciliation.schedule';
const PARITY_BATCH = 512;
/** Stripe takes meter events up to 35 days back: older periods can no longer be corrected there. */
const LOOKBACK_MS = 35 * 86_400_000;

export interface Reconciliation {
  service: ReconciliationService;
  parity: InvoiceParity;
  /** Background work: the hourly run (one replica, under a lease) and the invoice-parity feed. */
  tasks: BackgroundTask[];
  /** Checks the stored invoice events not checked yet (what the background task does each tick). */
  drainInvoiceParity(): Promise<number>;
}

export interface ReconciliationDeps {
  config: Config;
  store: Store;
  tenants: { stripeApiKey(tenantId: string, mode?: 'live' | 'test'): Promise<string | undefined> };
  mappings: MappingDirectory;
  incidents: IncidentService;
  ids: IdGenerator;
  clock: Clock;
  logger: Logger;
  stripeFor?: StripeClientFactory;
}

export function createReconciliation(deps: ReconciliationDeps): Reconciliation {
  const { config, store, clock, logger } = deps;
  const reader = new StripeMeterReader(deps.stripeFor ?? createStripeClientFactory(config.stripe), () => clock.now());
  const service = new ReconciliationService(store, deps.tenants, deps.mappings, reader, deps.incidents, deps.ids, clock, logger, {
    epsilonPpm: config.reconciliation.epsilonPpm,
    lookbackMs: LOOKBACK_MS,
  });
  const parity = new InvoiceParity(store, deps.tenants, deps.mappings, reader, deps.incidents, clock, logger, {
    epsilonPpm: config.reconciliation.epsilonPpm,
    liveHorizonMs: config.detectors.liveHorizonMs,
  });
  // Only invoice events are read in full; the rest of the feed is passed over by position and type,
  // in steps small enough for a synchronous SQLite read on the request thread.
  const consumer = new FeedConsumer(store, clock, PARITY_CURSOR, (events) => parity.handle(events), PARITY_BATCH, [...PARITY_EVENT_TYPES]);
  const holder = `reconcile-${randomBytes(6).toString('hex')}`;
  // At most 8 × 512 feed entries per 250 ms tick (16,000/s, twice the intake floor), requests served between steps.
  const tasks: BackgroundTask[] = [{ name: 'invoice-parity', run: async () => void (await consumer.run(8)) }];
  if (config.reconciliation.intervalMs > 0) {
    tasks.push(
      every(config.reconciliation.intervalMs, () => clock.now(), {
        name: 'reconciliation',
        run: async () => {
          // One replica reconciles per interval; the lease outlives the run so a second replica skips this hour.
          if (!(await store.detectors.tryAcquireLease(SCHEDULE_LEASE, holder, clock.now(), Math.max(60_000, config.reconciliation.intervalMs - 60_000)))) return;
          await service.runAll();
        },
      }),
    );
  }
  return { service, parity, tasks, drainInvoiceParity: () => consumer.run(1_000) };
}
