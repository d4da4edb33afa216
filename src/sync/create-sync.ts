import type { Logger } from 'pino';
import type { SyncConfig } from '../config.js';
import type { IncidentService } from '../detectors/incident-service.js';
import type { Metrics } from '../ops/metrics.js';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { StripeClientFactory } from '../stripe/stripe-client.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { BackgroundTask } from '../jobs/background-loop.js';
import { every } from '../jobs/every.js';
import { MappingService } from './mapping-service.js';
import { PushEngine } from './push-engine.js';
import { PushHealth } from './push-health.js';
import { StripeMeterGateway } from './stripe-meter-gateway.js';
import { SyncMetrics } from './sync-metrics.js';
import { SyncStatusService } from './sync-status.js';

export interface Sync {
  config: SyncConfig;
  mappings: MappingService;
  engine: PushEngine;
  status: SyncStatusService;
  /** The background loop's push cycle, every `MW_SYNC_INTERVAL_SECONDS`. */
  task: BackgroundTask;
  stop(): Promise<void>;
}

export interface SyncDeps {
  config: SyncConfig;
  store: Store;
  tenants: TenantService;
  stripeClients: StripeClientFactory;
  incidents: IncidentService;
  metrics: Metrics;
  ids: IdGenerator;
  clock: Clock;
  logger: Logger;
}

export function createSync(deps: SyncDeps): Sync {
  const { config, store, tenants, ids, clock, logger } = deps;
  const metrics = new SyncMetrics(deps.metrics.registry);
  const gateway = new StripeMeterGateway(deps.stripeClients, clock, (kind, outcome) => metrics.stripeCalls.inc({ kind, outcome }));
  const health = new PushHealth(store, deps.incidents, clock, logger, metrics, config.failingAfter);
  const engine = new PushEngine(store, tenants, gateway, health, metrics, ids, clock, logger, {
    transport: config.transport,
    concurrency: config.concurrency,
    lookbackMs: config.lookbackMs,
  });
  return {
    config,
    mappings: new MappingService(store, tenants, gateway, health, ids, clock),
    engine,
    status: new SyncStatusService(store, tenants, clock),
    task: every(config.intervalMs, () => clock.now(), { name: 'usage-sync', run: async () => void (await engine.runCycle()) }),
    stop: () => engine.stop(),
  };
}
