import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { TenantService } from '../tenants/tenant-service.js';
import type { ApiKeyService } from '../tenants/api-key-service.js';
import type { Authenticator } from '../tenants/principal.js';
import type { WebhookIntake } from '../webhooks/webhook-intake.js';
import type { Metrics } from '../ops/metrics.js';
import type { BackgroundLoop } from '../jobs/background-loop.js';
import type { RequestLoad } from '../ops/request-load.js';
import type { BackfillIntake } from '../webhooks/backfill-intake.js';
import type { DetectorSettings } from '../detectors/detector-settings.js';
import type { IncidentService } from '../detectors/incident-service.js';
import type { DetectorEngine } from '../detectors/detector-engine.js';
import type { DetectorThread } from '../detectors/detector-thread.js';
import type { Metering } from '../metering/create-metering.js';
import type { AlertChannelService } from '../alerts/alert-channel-service.js';
import type { AlertDeliveryService } from '../alerts/alert-delivery-service.js';
import type { NotificationFanout } from '../alerts/notification-fanout.js';
import type { DeliveryWorker } from '../alerts/delivery-worker.js';
import type { DigestService } from '../alerts/digest-service.js';
import type { Pricing } from '../pricing/create-pricing.js';
import type { Backfill } from '../backfill/create-backfill.js';
import type { Reconciliation } from '../reconciliation/create-reconciliation.js';
import type { Sync } from '../sync/create-sync.js';

/** What the transports may call; assembled once by the composition root (`app.ts`). */
export interface Services {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: Store;
  tenants: TenantService;
  apiKeys: ApiKeyService;
  authenticator: Authenticator;
  webhookIntake: WebhookIntake;
  backfillIntake: BackfillIntake;
  detectorSettings: DetectorSettings;
  incidents: IncidentService;
  /** Runs the detectors in inline mode; in worker mode the worker thread has its own. */
  detectorEngine: DetectorEngine;
  /** Worker mode (MW_DETECTOR_MODE=worker, the default for serve): the detector worker thread. */
  detectorThread: DetectorThread | undefined;
  metering: Metering;
  pricing: Pricing;
  alertChannels: AlertChannelService;
  alertDeliveries: AlertDeliveryService;
  alertFanout: NotificationFanout;
  alertWorker: DeliveryWorker;
  digests: DigestService;
  reconciliation: Reconciliation;
  sync: Sync;
  metrics: Metrics;
  loop: BackgroundLoop;
  load: RequestLoad;
  /** Stripe history backfill, gap-fill and the durable jobs they run as. */
  backfill: Backfill;
}
