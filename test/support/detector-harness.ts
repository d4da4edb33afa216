import { expect } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { DIALECTS, dialectEnabled, freshDatabase, type Dialect, type FreshDatabase } from './dialects.js';
import { ADMIN_TOKEN, deliverWebhook, startTestApp, type TestApp } from './test-app.js';

export { DIALECTS, dialectEnabled, type Dialect };

/** What GET /v1/anomalies returns per incident. */
export interface IncidentView {
  id: string;
  tenantId: string;
  detector: string;
  subject: { type: string; id: string };
  status: 'open' | 'acknowledged' | 'resolved' | 'false_positive';
  severity: 'info' | 'warning' | 'critical';
  historical: boolean;
  summary: string;
  figures: Record<string, string | number>;
  evidence: { eventIds: string[] };
  firstTriggeredAt: string;
  lastTriggeredAt: string;
  openedAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  resolution: { actor: string; reason: string | null } | null;
}

export interface NotificationView {
  id: string;
  incidentId: string;
  kind: 'open' | 'escalate' | 'resolve';
  severity: string;
  detector: string;
}

/**
 * End-to-end harness for detector tests: events go in as signed webhooks over HTTP (or as
 * backfilled events), the real engine runs against a real store, incidents come back through the API.
 * Time is the harness clock: set it, never sleep.
 */
export interface DetectorHarness {
  /** The running app; replaced by `restart`. */
  readonly app: TestApp;
  apiKey: string;
  /** Deliver a signed webhook to /webhooks/stripe at the clock's now; returns the HTTP status. */
  deliver(event: Record<string, unknown>): Promise<number>;
  /** Store an event as backfilled history (source `backfill`): it never notifies. */
  backfill(event: Record<string, unknown>): Promise<void>;
  /** Run the detector engine until the feed is drained. */
  process(): Promise<void>;
  /** Run the scheduled evaluations (absence detectors, auto-resolve) at the clock's now. */
  tick(): Promise<void>;
  /** PUT /v1/detectors/{name} with a partial config; returns the response status. */
  configure(detector: string, body: Record<string, unknown>): Promise<number>;
  incidents(query?: Record<string, string>): Promise<IncidentView[]>;
  notifications(): Promise<NotificationView[]>;
  /** Events the engine flagged, with their anomaly score. */
  flagged(): Promise<{ eventId: string; anomalyScore: number }[]>;
  /**
   * Stops the app and starts a new one on the same database (a restart or a new replica), with its
   * own clock; every method then talks to the new app. Its first schedule run needs the old app's
   * lease (5 min) to have expired on that clock.
   */
  restart(clock?: ManualClock, env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export async function detectorHarness(dialect: Dialect, env: Record<string, string> = {}): Promise<DetectorHarness> {
  const db: FreshDatabase = await freshDatabase(dialect);
  let app = await startTestApp(db, env);
  let running = true;
  const apiKey = app.firstStart!.apiKey;
  const auth = { authorization: `Bearer ${apiKey}` };
  return {
    get app() {
      return app;
    },
    apiKey,
    deliver(event) {
      return deliverWebhook(app, event);
    },
    async backfill(event) {
      await app.services.backfillIntake.store('default', JSON.stringify(event));
    },
    async process() {
      await app.services.detectorEngine.drain();
    },
    async tick() {
      await app.services.detectorEngine.runSchedule();
    },
    async configure(detector, body) {
      const res = await app.server.inject({ method: 'PUT', url: `/v1/detectors/${detector}`, headers: auth, payload: body });
      return res.statusCode;
    },
    async incidents(query = {}) {
      const qs = new URLSearchParams({ limit: '500', ...query }).toString();
      const res = await app.server.inject({ method: 'GET', url: `/v1/anomalies?${qs}`, headers: auth });
      if (res.statusCode !== 200) throw new Error(`GET /v1/anomalies: ${res.statusCode} ${res.body}`);
      return res.json().data as IncidentView[];
    },
    async notifications() {
      return (await app.services.store.detectors.listNotifications('default', { limit: 10_000 })).map((n) => ({
        id: n.id,
        incidentId: n.incidentId,
        kind: n.kind,
        severity: n.severity,
        detector: n.detector,
      }));
    },
    async flagged() {
      const rows = await app.services.store.listBillingEvents('default', { limit: 100_000 });
      return rows.filter((r) => r.flagged).map((r) => ({ eventId: r.eventId, anomalyScore: r.anomalyScore }));
    },
    async restart(clock = new ManualClock(app.clock.now()), restartEnv = env) {
      if (running) await app.close();
      running = false;
      app = await startTestApp(db, restartEnv, clock);
      running = true;
    },
    async close() {
      if (running) await app.close();
      running = false;
      await db.cleanup();
    },
  };
}

/** Runs `fn` on a fresh harness and always closes it. */
export async function withHarness(dialect: Dialect, fn: (h: DetectorHarness) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const h = await detectorHarness(dialect, env);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

/** `withHarness` with the clock set to `now` before `fn` runs. */
export function withHarnessAt(now: number) {
  return (dialect: Dialect, fn: (h: DetectorHarness) => Promise<void>, env: Record<string, string> = {}): Promise<void> =>
    withHarness(
      dialect,
      async (h) => {
        h.app.clock.set(now);
        await fn(h);
      },
      env,
    );
}

/** Delivers each event as a signed webhook at the clock's now; each must be accepted. */
export async function deliverAll(h: DetectorHarness, events: Record<string, unknown>[]): Promise<void> {
  for (const e of events) expect(await h.deliver(e)).toBe(200);
}

/**
 * Drains until the engine has evaluated every stored event. On PostgreSQL the feed holds back rows
 * behind its visibility horizon, so one drain may stop short of a just-committed event; this keeps
 * the assertions about detector logic, not feed timing.
 */
export async function settle(h: DetectorHarness): Promise<void> {
  for (let i = 0; i < 400; i++) {
    await h.app.services.detectorEngine.drain();
    const cursor = await h.app.services.store.getFeedCursor('detectors.evaluate');
    const rows = await h.app.services.store.listBillingEvents('default', { limit: 100_000 });
    const maxSeq = rows.reduce((m, r) => Math.max(m, r.seq), 0);
    if (cursor.seq >= maxSeq) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the detector engine did not catch up with the stored events');
}

/** Sets the clock to `ms`, evaluates what is stored, then runs the schedule at that time. */
export async function tickAt(h: DetectorHarness, ms: number): Promise<void> {
  h.app.clock.set(ms);
  await h.process();
  await h.tick();
}

/** One detector's incidents (through the API) and notifications. */
export function detectorViews(detector: string) {
  return {
    mine: (h: DetectorHarness): Promise<IncidentView[]> => h.incidents({ detector }),
    myNotifications: async (h: DetectorHarness): Promise<NotificationView[]> => (await h.notifications()).filter((n) => n.detector === detector),
  };
}

export { ADMIN_TOKEN };
