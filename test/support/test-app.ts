import pino from 'pino';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { FreshDatabase } from './dialects.js';
import { signPayload } from './stripe-events.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const DEFAULT_SECRET = 'whsec_test_default_0123456789abcdef';
export const T0 = Date.UTC(2026, 10, 20, 12, 0, 0); // frozen "now" for suites

export interface TestApp extends App {
  clock: ManualClock;
  db: FreshDatabase;
}

/** A real app (real store, real Fastify) on a fresh database with a frozen clock. */
export async function startTestApp(
  db: FreshDatabase,
  env: Record<string, string> = {},
  clock = new ManualClock(T0),
  options: Omit<AppOptions, 'clock' | 'logger'> = {},
): Promise<TestApp> {
  const config = parseConfig(
    {
      DATABASE_URL: db.databaseUrl,
      MW_DATA_DIR: db.dataDir,
      MW_ADMIN_TOKEN: ADMIN_TOKEN,
      STRIPE_WEBHOOK_SECRET: DEFAULT_SECRET,
      MW_PUBLIC_URL: 'https://mw.example.test',
      LOG_LEVEL: 'silent',
      // Suites drive the detectors with `loop.tick()` and a frozen clock; worker-mode suites say so.
      MW_DETECTOR_MODE: 'inline',
      ...env,
    },
    {},
    db.dataDir,
  );
  const app = await createApp(config, { ...options, clock, logger: pino({ level: 'silent' }) });
  await app.server.ready();
  return Object.assign(app, { clock, db });
}

/** POSTs `event` to the default tenant's webhook URL, signed with its secret at the app clock's now; the status code. */
export async function deliverWebhook(app: TestApp, event: Record<string, unknown>): Promise<number> {
  const payload = JSON.stringify(event);
  const res = await app.server.inject({
    method: 'POST',
    url: '/webhooks/stripe',
    payload,
    headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, DEFAULT_SECRET, Math.floor(app.clock.now() / 1000)) },
  });
  return res.statusCode;
}
