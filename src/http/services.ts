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
  metrics: Metrics;
  loop: BackgroundLoop;
}
