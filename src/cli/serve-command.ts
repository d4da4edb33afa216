import { parseConfig, type ConfigOverrides } from '../config.js';
import type { Logger } from 'pino';
import { createApp, type App } from '../app.js';
import type { CreatedTenant } from '../tenants/tenant-service.js';
import type { CliIo } from './cli-io.js';

/** Runs until SIGTERM/SIGINT, then drains: stop accepting, finish in-flight requests, close the store. */
export async function serveCommand(io: CliIo, overrides: ConfigOverrides): Promise<void> {
  const config = parseConfig(io.env, overrides, io.cwd);
  const app = await createApp(config);
  let address: string;
  try {
    address = await app.listen();
  } catch (error) {
    // Release the store and the background loop: an open PostgreSQL pool, kept busy by the loop's
    // heartbeat, would otherwise keep the process alive forever after e.g. EADDRINUSE.
    await app.close().catch(() => {});
    // The default tenant and its first API key were created before listening failed: show them now,
    // or the key is lost (the next start finds the tenant and prints nothing).
    if (app.firstStart) io.out(firstStartBanner(app.firstStart, config.publicUrl, config.stripeWebhookSecrets.length > 0));
    throw error;
  }
  const log = app.services.logger;
  // Handlers go in before the process announces itself: a SIGTERM right after "listening" must drain,
  // not kill the process with the default signal action.
  const stopped = untilShutdownSignal(app, log, config.shutdownTimeoutMs);
  log.info({ address, database: config.database.kind, dataDir: config.dataDir }, 'meterwatch listening');
  if (app.firstStart) {
    const publicUrl = boundPublicUrl(config.publicUrl, config.port, address);
    const created = { ...app.firstStart, webhookUrl: app.firstStart.webhookUrl.replace(config.publicUrl, publicUrl) };
    io.out(firstStartBanner(created, publicUrl, config.stripeWebhookSecrets.length > 0));
  } else if (config.stripeWebhookSecrets.length === 0 && ((await app.services.tenants.defaultWebhookTarget())?.secrets.length ?? 0) === 0)
    log.warn('STRIPE_WEBHOOK_SECRET is not set: /webhooks/stripe refuses every delivery (400) until it is');

  await stopped;
}

function untilShutdownSignal(app: App, log: Logger, shutdownTimeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const shutdown = (signal: string) => {
      log.info({ signal }, 'shutting down');
      const timer = setTimeout(() => {
        log.error('graceful shutdown timed out; exiting');
        process.exit(1);
      }, shutdownTimeoutMs);
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

/** With `--port 0` (and no MW_PUBLIC_URL) the configured URL says ":0"; show the port actually bound. */
function boundPublicUrl(publicUrl: string, configuredPort: number, address: string): string {
  if (configuredPort !== 0) return publicUrl;
  try {
    const url = new URL(publicUrl);
    if (url.port !== '0') return publicUrl;
    url.port = new URL(address).port;
    return url.toString().replace(/\/+$/, '');
  } catch {
    return publicUrl;
  }
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
