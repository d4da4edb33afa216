import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { systemClock, type Clock } from './shared/clock.js';
import { createIdGenerator, type IdGenerator } from './shared/ids.js';
import { createLogger } from './ops/create-logger.js';
import { Metrics } from './ops/metrics.js';
import { openStore } from './store/open-store.js';
import { ApiKeyService } from './tenants/api-key-service.js';
import { TenantService, type CreatedTenant } from './tenants/tenant-service.js';
import { Authenticator } from './tenants/principal.js';
import { bootstrapDefaultTenant } from './tenants/bootstrap-default-tenant.js';
import { TenantRateLimiter } from './webhooks/tenant-rate-limiter.js';
import { WebhookIntake } from './webhooks/webhook-intake.js';
import { BackgroundLoop } from './jobs/background-loop.js';
import { BackfillIntake } from './webhooks/backfill-intake.js';
import { DETECTORS } from './detectors/rules/index.js';
import { DetectorSettings } from './detectors/detector-settings.js';
import { IncidentService } from './detectors/incident-service.js';
import { DetectorEngine } from './detectors/detector-engine.js';
import { DetectorThread, type DetectorThreadOptions } from './detectors/detector-thread.js';
import type { DetectorMode } from './config.js';
import { buildServer } from './http/build-server.js';
import type { Services } from './http/services.js';
import { every } from './jobs/every.js';
import { RequestLoad } from './ops/request-load.js';
import { createMetering } from './metering/create-metering.js';
import { createAlerting } from './alerts/create-alerting.js';
import { createPricing } from './pricing/create-pricing.js';
import { createBackfill } from './backfill/create-backfill.js';
import { createReconciliation } from './reconciliation/create-reconciliation.js';
import { syncMappingDirectory } from './reconciliation/sync-mapping-directory.js';
import { createSync } from './sync/create-sync.js';
import { USAGE_PUSH_FAILING } from './sync/push-health.js';
import { USAGE_DRIFT } from './reconciliation/reconciliation-service.js';
import { INVOICE_USAGE_MISMATCH } from './reconciliation/invoice-parity.js';
import { createStripeClientFactory } from './stripe/stripe-client.js';

/** How long `listen()` waits for the detector worker's first heartbeat (from sources, tsx compiles it first). */
const WORKER_START_WAIT_MS = 20_000;

export interface AppOptions {
  clock?: Clock;
  ids?: IdGenerator;
  logger?: Logger;
  /** Background loop period; tests drive `services.loop.tick()` themselves. */
  loopIntervalMs?: number;
  /** Overrides `config.detectors.mode` (tests that tick the loop with a frozen clock use `inline`). */
  detectorMode?: DetectorMode;
  /** Worker mode: restart backoff, heartbeat staleness and the like (tests make them short). */
  detectorThread?: Partial<Pick<DetectorThreadOptions, 'loadedBatchSize' | 'idleBatchSize' | 'idlePollMs' | 'scheduleIntervalMs' | 'restartDelayMs' | 'maxRestartDelayMs' | 'staleAfterMs' | 'now' | 'checkpointIntervalMs'>>;
}

export interface App {
  services: Services;
  server: FastifyInstance;
  /** Set only on the start that created the default tenant: its webhook URL and first API key. */
  firstStart: CreatedTenant | undefined;
  /** Starts the background loop and listens; resolves to the bound address. */
  listen(): Promise<string>;
  /** Starts the background loop and the detector worker without listening (listen() does it too). */
  startBackground(): void;
  close(): Promise<void>;
}

/** The composition root: config → store → services → HTTP server → background loop. */
export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? createIdGenerator(clock);
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  let detectorMode = options.detectorMode ?? config.detectors.mode;
  if (detectorMode === 'worker' && config.database.kind === 'sqlite' && config.database.file === ':memory:') {
    logger.warn('an in-memory SQLite database cannot be shared with a detector worker thread; the detectors run inline');
    detectorMode = 'inline';
  }
  // On a SQLite file the detector worker also runs the WAL checkpoints: a thread and an isolate fewer.
  const hostedCheckpoints = detectorMode === 'worker' && config.database.kind === 'sqlite';
  const { store, box } = await openStore(config, logger, { migrate: true, metrics, hostedCheckpoints });

  const apiKeys = new ApiKeyService(store, box, ids, clock);
  const tenants = new TenantService(store, box, ids, clock, apiKeys, {
    publicUrl: config.publicUrl,
    defaultWebhookSecrets: config.stripeWebhookSecrets,
  });
  const firstStart = await bootstrapDefaultTenant(tenants);
  const detectorSettings = new DetectorSettings(store, clock, DETECTORS);
  const incidents = new IncidentService(store, ids, clock, { resolveAfterMs: config.detectors.resolveAfterMs, suppressForMs: config.detectors.suppressForMs });
  const detectorEngine = new DetectorEngine(store, detectorSettings, incidents, clock, logger, {
    liveHorizonMs: config.detectors.liveHorizonMs,
    // Small batches keep each synchronous stretch short (SQLite calls block the event loop).
    batchSize: 32,
  }, (detector) => metrics.detectorErrors.inc({ detector }));

  const loop = new BackgroundLoop(options.loopIntervalMs ?? 250, () => clock.now(), logger);
  loop.add(every(5_000, () => clock.now(), { name: 'store-heartbeat', run: () => store.ping() }));
  const load = new RequestLoad();
  let detectorThread: DetectorThread | undefined;
  if (detectorMode === 'inline') {
    // At most ~100 ms of detector work per 250 ms tick: under a burst, intake keeps most of the
    // event loop and the detectors catch up behind it; idle, they keep up within a tick.
    loop.add({
      name: 'detectors',
      run: async () => void metrics.detectorEvents.inc(await detectorEngine.drain(5_000, config.detectors.budgetMs, () => load.inFlight > 0)),
    });
    loop.add(every(60_000, () => clock.now(), { name: 'detector-schedule', run: async () => void (await detectorEngine.runSchedule()) }));
  } else if (detectorMode === 'worker') {
    // Off the request thread: with better-sqlite3 every detector query would block it.
    detectorThread = new DetectorThread({
      database: config.database,
      logLevel: config.logLevel,
      detectors: config.detectors,
      load,
      metrics,
      logger,
      writeTurn: store.writeTurn,
      hostCheckpoints: hostedCheckpoints,
      ...options.detectorThread,
    });
  }
  loop.add(every(3_600_000, () => clock.now(), { name: 'store-maintenance', run: () => store.maintain() }));
  // Channels may filter on every incident source: the detectors and the sync's own incidents.
  const incidentSources = [...DETECTORS.map((d) => d.name), USAGE_PUSH_FAILING, USAGE_DRIFT, INVOICE_USAGE_MISMATCH];
  const alerting = createAlerting({ config, store, box, ids, clock, logger, incidents, detectorNames: incidentSources });
  for (const task of alerting.tasks) loop.add(task);
  const stripeClients = createStripeClientFactory(config.stripe);
  const backfill = createBackfill({ config, store, tenants, ids, clock, logger, metrics, stripe: stripeClients });
  for (const task of backfill.tasks) loop.add(task);
  const sync = createSync({ config: config.sync, store, tenants, stripeClients, incidents, metrics, ids, clock, logger });
  loop.add(sync.task);
  const reconciliation = createReconciliation({ config, store, tenants, mappings: syncMappingDirectory(store), incidents, ids, clock, logger, stripeFor: stripeClients });
  for (const task of reconciliation.tasks) loop.add(task);

  const metering = createMetering(store, clock, ids, config.metering, metrics);
  const services: Services = {
    config,
    clock,
    logger,
    store,
    tenants,
    apiKeys,
    authenticator: new Authenticator(config.adminToken, apiKeys),
    backfillIntake: new BackfillIntake(store, clock),
    detectorSettings,
    incidents,
    detectorEngine,
    detectorThread,
    metering,
    pricing: createPricing(store, metering.periods, clock),
    alertChannels: alerting.channels,
    alertDeliveries: alerting.deliveries,
    alertFanout: alerting.fanout,
    alertWorker: alerting.worker,
    digests: alerting.digests,
    reconciliation,
    sync,
    webhookIntake: new WebhookIntake(store, tenants, new TenantRateLimiter(clock, config.webhook.ratePerSecond, config.webhook.burst), clock, config.webhook.toleranceSeconds),
    metrics,
    loop,
    load,
    backfill,
  };
  const server = await buildServer(services);

  let closed = false;
  const startBackground = () => {
    loop.start();
    detectorThread?.start();
  };
  return {
    services,
    server,
    firstStart,
    startBackground,
    async listen() {
      startBackground();
      // Announce the address once the detector worker runs (a moment from dist), so a replica is
      // ready when it says it listens; a worker that cannot start leaves it unready, not hanging.
      if (detectorThread && !(await detectorThread.whenReady(WORKER_START_WAIT_MS))) logger.error('the detector worker has not started; the replica stays unready until it does');
      return server.listen({ port: config.port, host: config.host });
    },
    async close() {
      if (closed) return;
      closed = true;
      await server.close();
      await loop.stop();
      await alerting.stop();
      await backfill.stop().catch((error) => logger.warn({ err: error }, 'could not release the backfill leases'));
      await sync.stop();
      // Before the store closes: the worker finishes its batch and releases the schedule lease.
      await detectorThread?.stop();
      await detectorEngine.stop().catch((error) => logger.warn({ err: error }, 'could not release the detector schedule lease'));
      await store.close();
    },
  };
}
