import { parseConfig, type ConfigOverrides } from '../config.js';
import { createApp } from '../app.js';
import type { CreatedTenant } from '../tenants/tenant-service.js';
import type { CliIo } from './cli-io.js';

/** Runs until SIGTERM/SIGINT, then drains: stop accepting, finish in-flight requests, close the store. */
export async function serveCommand(io: CliIo, overrides: ConfigOverrides): Promise<void> {
  const config = parseConfig(io.env, overrides, io.cwd);
  const app = await createApp(config);
  const address = await app.listen();
  const log = app.services.logger;
  log.info({ address, database: config.database.kind, dataDir: config.dataDir }, 'meterwatch listening');
  if (app.firstStart) io.out(firstStartBanner(app.firstStart, config.publicUrl, config.stripeWebhookSecrets.length > 0));
  else if (config.stripeWebhookSecrets.length === 0 && ((await app.services.tenants.defaultWebhookTarget())?.secrets.length ?? 0) === 0)
    log.warn('STRIPE_WEBHOOK_SECRET is not set: /webhooks/stripe refuses every delivery (400) until it is');

  await new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        log.error('graceful shutdown timed out; exiting');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      app.close().then(resolve, (error) => {
        log.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
}

export function firstStartBanner(created: CreatedTenant, publicUrl: string, secretConfigured: boolean): string {
  const lines = [
    '',
    '  Meterwatch created the "default" tenant. This is shown ONCE: store the API key now.',
    '',
    `  Stripe webhook URL:   ${publicUrl}/webhooks/stripe`,
    `  (same tenant, token URL: ${created.webhookUrl})`,
    `  API key (ingest, read, write): ${created.apiKey}`,
    '',
  ];
  if (!secretConfigured) {
    lines.push(
      '  Next: set STRIPE_WEBHOOK_SECRET to the endpoint\'s signing secret (whsec_...), from',
      '  Stripe Dashboard > Developers > Webhooks > your endpoint, or from `stripe listen`,',
      '  in the environment or in .env, and restart. Until then every webhook is refused (400).',
      '',
    );
  }
  return lines.join('\n');
}
