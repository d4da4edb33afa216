import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { IncidentService } from '../detectors/incident-service.js';
import type { BackgroundTask } from '../jobs/background-loop.js';
import { every } from '../jobs/every.js';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import { AlertChannelService } from './alert-channel-service.js';
import { AlertDeliveryService } from './alert-delivery-service.js';
import { ChannelHealth } from './channel-health.js';
import { ChannelSender } from './channel-sender.js';
import { ChannelTargets } from './channel-target.js';
import { DeliveryWorker } from './delivery-worker.js';
import { DigestService } from './digest-service.js';
import { EmailSender } from './email-sender.js';
import { NotificationFanout } from './notification-fanout.js';
import type { Resolver } from './outbound-http.js';

/** Finished deliveries and digest records are kept this long, then pruned. */
const RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
const BATCH_SIZE = 20;

export interface Alerting {
  channels: AlertChannelService;
  deliveries: AlertDeliveryService;
  fanout: NotificationFanout;
  worker: DeliveryWorker;
  digests: DigestService;
  /** Background-loop tasks: fan-out and delivery every tick, digests every minute, pruning hourly. */
  tasks: BackgroundTask[];
  /** Interrupts in-flight sends and closes the SMTP connection. */
  stop(): Promise<void>;
}

export interface AlertingDeps {
  config: Config;
  store: Store;
  box: SecretBox;
  ids: IdGenerator;
  clock: Clock;
  logger: Logger;
  incidents: IncidentService;
  detectorNames: readonly string[];
  resolve?: Resolver;
}

/** Wires the alerts domain for the composition root. */
export function createAlerting(deps: AlertingDeps): Alerting {
  const { config, store, ids, clock, logger } = deps;
  const alerts = config.alerts;
  const email = alerts.smtpUrl && alerts.emailFrom ? new EmailSender({ smtpUrl: alerts.smtpUrl, from: alerts.emailFrom, timeoutMs: alerts.timeoutMs }) : undefined;
  const targets = new ChannelTargets(deps.box);
  const sender = new ChannelSender(clock, email, { allowPrivate: alerts.allowPrivateTargets, timeoutMs: alerts.timeoutMs, ...(deps.resolve ? { resolve: deps.resolve } : {}) });
  const health = new ChannelHealth(store, deps.incidents, clock, logger);
  const channels = new AlertChannelService(store, targets, sender, health, ids, clock, {
    allowPrivateTargets: alerts.allowPrivateTargets,
    emailConfigured: email !== undefined,
    detectorNames: deps.detectorNames,
    ...(deps.resolve ? { resolve: deps.resolve } : {}),
  });
  const fanout = new NotificationFanout(store, ids, clock, config.publicUrl);
  // The lease must outlast a whole claimed batch sent one after another at the worst case (an
  // SMTP send can spend the timeout on connect, greeting and data each): a live worker's claim never
  // expires under it, and a crashed worker's claims are taken over after it.
  const worker = new DeliveryWorker(store, targets, sender, health, clock, logger, { batchSize: BATCH_SIZE, concurrency: 4, leaseMs: BATCH_SIZE * 3 * alerts.timeoutMs + 60_000 });
  const digests = new DigestService(store, ids, clock, logger, config.publicUrl);
  const now = () => clock.now();
  return {
    channels,
    deliveries: new AlertDeliveryService(store, clock),
    fanout,
    worker,
    digests,
    tasks: [
      { name: 'alert-fanout', run: async () => void (await fanout.run()) },
      // Not awaited: a slow endpoint must not hold the loop (its heartbeat is the readiness check).
      { name: 'alert-delivery', run: async () => worker.kick() },
      every(60_000, now, { name: 'alert-digests', run: async () => void (await digests.runDue()) }),
      every(3_600_000, now, { name: 'alert-prune', run: async () => void (await store.alerts.prune(clock.now() - RETENTION_MS)) }),
    ],
    async stop() {
      await worker.stop();
      email?.close();
    },
  };
}
