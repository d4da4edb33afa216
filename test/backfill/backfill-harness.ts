import { startFakeStripe, type EventObject, type FakeStripe, type FaultPlan } from '../../src/fake-stripe/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { BillingEventRecord } from '../../src/store/store.js';
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/dialects.js';
import { chargeSucceeded, signPayload } from '../support/stripe-events.js';
import { ADMIN_TOKEN, DEFAULT_SECRET, T0, startTestApp, type TestApp } from '../support/test-app.js';

/** A restricted key, as an operator would give Meterwatch: the backfill must work with one. */
export const RK = 'rk_test_backfill0000000001';
export const T0S = T0 / 1000;

export interface BackfillHarness {
  fake: FakeStripe;
  clock: ManualClock;
  db: FreshDatabase;
  app: TestApp;
  /** The default tenant's first API key (scopes ingest, read, write). */
  key: string;
  /** Another app (a restarted process, or a second replica) on the same database and clock. */
  startApp(env?: Record<string, string>): Promise<TestApp>;
  /** `n` charge.succeeded events in the fake, one a minute back from `newest` (seconds). */
  seedEvents(n: number, options?: { newest?: number; apiKey?: string; type?: string }): EventObject[];
  /** Delivers the event as Stripe would, signed, to the default tenant's webhook URL. */
  deliver(event: EventObject, app?: TestApp): Promise<void>;
  request(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, options?: { token?: string; app?: TestApp }): Promise<{ status: number; body: any }>;
  /** Works the job until it is finished, moving the clock `stepMs` between rounds (backoffs wait on it). */
  workUntilFinished(jobId: string, options?: { app?: TestApp; stepMs?: number; maxRounds?: number }): Promise<any>;
  stored(tenantId?: string, app?: TestApp): Promise<BillingEventRecord[]>;
  /** GET /v1/events requests the fake answered or faulted, in order. */
  eventListRequests(): { status: number; fault?: string; apiKey: string }[];
  close(): Promise<void>;
}

export async function startBackfill(dialect: Dialect, options: { env?: Record<string, string>; faults?: FaultPlan; apiKey?: string | null } = {}): Promise<BackfillHarness> {
  const clock = new ManualClock(T0);
  const fake = await startFakeStripe({ now: () => clock.now(), ...(options.faults ? { faults: options.faults } : {}) });
  const db = await freshDatabase(dialect);
  const env = { STRIPE_API_BASE: fake.url, MW_STRIPE_TIMEOUT_MS: '2000', ...options.env };
  const apps: TestApp[] = [];
  const startApp = async (extra: Record<string, string> = {}) => {
    const app = await startTestApp(db, { ...env, ...extra }, clock);
    apps.push(app);
    return app;
  };
  const app = await startApp();
  const key = app.firstStart!.apiKey;

  const request: BackfillHarness['request'] = async (method, url, payload, o = {}) => {
    const res = await (o.app ?? app).server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${o.token ?? key}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }),
    });
    return { status: res.statusCode, body: res.body.length > 0 ? res.json() : undefined };
  };

  if (options.apiKey !== null) {
    const res = await request('PUT', '/v1/tenants/default/stripe', { apiKey: options.apiKey ?? RK }, { token: ADMIN_TOKEN });
    if (res.status !== 200) throw new Error(`could not set the API key: ${JSON.stringify(res.body)}`);
  }

  const harness: BackfillHarness = {
    fake,
    clock,
    db,
    app,
    key,
    startApp,
    seedEvents(n, o = {}) {
      const account = fake.account(o.apiKey ?? RK);
      const newest = o.newest ?? T0S - 60;
      return Array.from({ length: n }, (_, i) => {
        const created = newest - i * 60;
        const object = (chargeSucceeded(created).data as { object: object }).object;
        return account.addEvent({ type: o.type ?? 'charge.succeeded', data: { object }, created });
      });
    },
    async deliver(event, target = app) {
      const payload = JSON.stringify(event);
      const res = await target.server.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, DEFAULT_SECRET, Math.floor(clock.now() / 1000)) },
        payload,
      });
      if (res.statusCode !== 200) throw new Error(`webhook refused: ${res.statusCode} ${res.body}`);
    },
    request,
    async workUntilFinished(jobId, o = {}) {
      const target = o.app ?? app;
      for (let round = 0; round < (o.maxRounds ?? 50); round++) {
        await target.services.backfill.runner.work();
        const job = (await request('GET', `/v1/jobs/${jobId}`, undefined, { app: target })).body;
        if (!['queued', 'running'].includes(job.status)) return job;
        clock.advance(o.stepMs ?? 60_000);
      }
      throw new Error(`job ${jobId} did not finish`);
    },
    async stored(tenantId = 'default', target = app) {
      return target.services.store.listBillingEvents(tenantId, { limit: 100_000 });
    },
    eventListRequests() {
      return fake.requestLog.filter((r) => r.method === 'GET' && r.path === '/v1/events').map((r) => ({ status: r.status, apiKey: r.apiKey, ...(r.fault ? { fault: r.fault } : {}) }));
    },
    async close() {
      for (const a of apps) await a.close().catch(() => {});
      await fake.close();
      await db.cleanup();
    },
  };
  return harness;
}
