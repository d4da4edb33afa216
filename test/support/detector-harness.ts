import { DIALECTS, dialectEnabled, freshDatabase, type Dialect, type FreshDatabase } from './dialects.js';
import { ADMIN_TOKEN, DEFAULT_SECRET, startTestApp, type TestApp } from './test-app.js';
import { signPayload } from './stripe-events.js';

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
  app: TestApp;
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
  close(): Promise<void>;
}

export async function detectorHarness(dialect: Dialect, env: Record<string, string> = {}): Promise<DetectorHarness> {
  const db: FreshDatabase = await freshDatabase(dialect);
  const app = await startTestApp(db, env);
  const apiKey = app.firstStart!.apiKey;
  const auth = { authorization: `Bearer ${apiKey}` };
  const engine = app.services.detectorEngine;
  return {
    app,
    apiKey,
    async deliver(event) {
      const payload = JSON.stringify(event);
      const at = Math.floor(app.clock.now() / 1000);
      const res = await app.server.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        payload,
        headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, DEFAULT_SECRET, at) },
      });
      return res.statusCode;
    },
    async backfill(event) {
      await app.services.backfillIntake.store('default', JSON.stringify(event));
    },
    async process() {
      await engine.drain();
    },
    async tick() {
      await engine.runSchedule();
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
    async close() {
      await app.close();
      await db.cleanup();
    },
  };
}

export { ADMIN_TOKEN };
