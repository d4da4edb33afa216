import { expect } from 'vitest';
import { startFakeStripe, type FakeStripe, type FaultPlan } from '../../src/fake-stripe/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/dialects.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/test-app.js';

export const LIVE_KEY = 'sk_live_meterwatchSyncLive01';
export const TEST_KEY = 'sk_test_meterwatchSyncShadow01';
/** Frozen "now": 2026-11-20 12:00 UTC, inside November (calendar-month periods). */
export const NOW = Date.UTC(2026, 10, 20, 12, 0, 0);
export const NOV = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) };

export interface Res {
  status: number;
  body: any;
}

/** A real app (both stores) pointed at the fake Stripe, with the default tenant's keys set. */
export interface SyncApp {
  app: TestApp;
  db: FreshDatabase;
  fake: FakeStripe;
  clock: ManualClock;
  key: string;
  env: Record<string, string>;
  request(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, token?: string): Promise<Res>;
  ingest(events: { metric?: string; customerRef: string; quantity: number; ts?: string; idempotencyKey?: string }[]): Promise<void>;
  /** Maps a customer ref to a new Stripe customer in the live account; returns its id. */
  mapCustomer(customerRef: string): Promise<string>;
  /** Also creates the customer in the test-mode account (`stripeTestCustomerId`, where shadow pushes go). */
  mapCustomerWithShadow(customerRef: string): Promise<{ live: string; test: string }>;
  run(): Promise<any>;
  status(query?: string): Promise<any>;
  /** Sum of the customer's accepted, uncancelled meter events in November, as the fake's summaries compute it. */
  stripeTotal(apiKey: string, meterId: string, stripeCustomerId: string): number;
  /** Close the app and start a new one on the same database (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startSync(dialect: Dialect, options: { env?: Record<string, string>; faults?: FaultPlan; testKey?: boolean } = {}): Promise<SyncApp> {
  const clock = new ManualClock(NOW);
  const fake = await startFakeStripe({ now: () => clock.now(), ...(options.faults ? { faults: options.faults } : {}) });
  const db = await freshDatabase(dialect);
  const env = { STRIPE_API_BASE: fake.url, MW_STRIPE_MAX_RETRIES: '0', MW_STRIPE_TIMEOUT_MS: '400', ...(options.env ?? {}) };
  let app = await startTestApp(db, env, clock);
  const key = app.firstStart!.apiKey;
  const request = async (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, token = key): Promise<Res> => {
    const res = await app.server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
    return { status: res.statusCode, body: res.body.length > 0 ? res.json() : undefined };
  };
  const keys = await request('PUT', '/v1/tenants/default/stripe', { apiKey: LIVE_KEY, ...(options.testKey ? { testApiKey: TEST_KEY } : {}) }, ADMIN_TOKEN);
  expect(keys.status).toBe(200);
  let customers = 0;
  let seq = 0;
  const harness: SyncApp = {
    get app() {
      return app;
    },
    db,
    fake,
    clock,
    key,
    env,
    request,
    async ingest(events) {
      // Distinct times: events differing only in quantity would share a derived idempotency key.
      const res = await request('POST', '/v1/events/ingest', {
        events: events.map((e) => ({ metric: 'api_calls', ts: new Date(clock.now() - 3_600_000 + (++seq % 3_000_000)).toISOString(), ...e })),
      });
      expect(res.status).toBe(200);
      expect(res.body.accepted, JSON.stringify(res.body)).toBe(events.length);
    },
    async mapCustomer(customerRef) {
      const customer = fake.account(LIVE_KEY).createCustomer({ name: customerRef + ++customers });
      const res = await request('PUT', `/v1/customers/${encodeURIComponent(customerRef)}`, { stripeCustomerId: customer.id });
      expect(res.status).toBe(200);
      return customer.id;
    },
    async mapCustomerWithShadow(customerRef) {
      const live = fake.account(LIVE_KEY).createCustomer({ name: customerRef });
      const test = fake.account(TEST_KEY).createCustomer({ name: customerRef });
      const res = await request('PUT', `/v1/customers/${encodeURIComponent(customerRef)}`, { stripeCustomerId: live.id, stripeTestCustomerId: test.id });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ stripeCustomerId: live.id, stripeTestCustomerId: test.id });
      return { live: live.id, test: test.id };
    },
    async run() {
      const res = await request('POST', '/v1/sync/run', {});
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    },
    async status(query = '') {
      const res = await request('GET', `/v1/sync/status${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    },
    stripeTotal(apiKey, meterId, stripeCustomerId) {
      return fake.account(apiKey).meterTotal({ meter: meterId, customer: stripeCustomerId, start_time: NOV.start / 1000, end_time: NOV.end / 1000 });
    },
    async restart() {
      await app.close();
      app = await startTestApp(db, env, clock);
    },
    async close() {
      await app.close();
      await fake.close();
      await db.cleanup();
    },
  };
  return harness;
}

/**
 * The usual live setup: a Stripe meter summing events named after the metric, and a mapping of the
 * metric to it (created, 201). Returns the meter's and the mapping's ids.
 */
export async function mapSumMeter(s: SyncApp, metric = 'api_calls'): Promise<{ meterId: string; mappingId: string }> {
  const meterId = createMeter(s.fake, LIVE_KEY, metric, 'sum').id;
  const created = await s.request('POST', '/v1/mappings', { metric, meterEventName: metric, aggregation: 'sum' });
  expect(created.status).toBe(201);
  return { meterId, mappingId: created.body.id };
}

export function createMeter(fake: FakeStripe, apiKey: string, eventName: string, formula: 'sum' | 'last' | 'count', extra: Record<string, unknown> = {}) {
  return fake.account(apiKey).createMeter({ display_name: eventName, event_name: eventName, default_aggregation: { formula }, ...extra });
}
