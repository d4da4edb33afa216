import { parseConfig, type Config, type ConfigOverrides } from '../config.js';
import { systemClock } from '../shared/clock.js';
import { createIdGenerator } from '../shared/ids.js';
import { createLogger } from '../ops/create-logger.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { ApiKeyService } from '../tenants/api-key-service.js';
import { TenantService } from '../tenants/tenant-service.js';
import type { CliIo } from './cli-io.js';

export interface CliServices {
  config: Config;
  store: Store;
  tenants: TenantService;
  apiKeys: ApiKeyService;
}

/** The same services the server uses, opened against the configured store for one CLI command. */
export async function withCliServices<T>(io: CliIo, overrides: ConfigOverrides, fn: (s: CliServices) => Promise<T>): Promise<T> {
  const config = parseConfig(io.env, overrides, io.cwd);
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const { store, box } = await openStore(config, logger, { migrate: true });
  try {
    const ids = createIdGenerator(systemClock);
    const apiKeys = new ApiKeyService(store, box, ids, systemClock);
    const tenants = new TenantService(store, box, ids, systemClock, apiKeys, {
      publicUrl: config.publicUrl,
      defaultWebhookSecrets: config.stripeWebhookSecrets,
    });
    return await fn({ config, store, tenants, apiKeys });
  } finally {
    await store.close();
  }
}
