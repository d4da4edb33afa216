import { expect } from 'vitest';
import { foldLedger, type LedgerFold } from '../../src/metering/fold-ledger.js';
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/dialects.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/test-app.js';

/** A real app on a fresh database of one dialect, with helpers for the metering API. */
export interface MeteringApp {
  app: TestApp;
  db: FreshDatabase;
  key: string;
  ingest(events: unknown[], options?: { token?: string; headers?: Record<string, string> }): Promise<{ status: number; body: IngestBody }>;
  get(url: string, token?: string): Promise<{ status: number; body: any }>;
  send(method: 'POST' | 'PUT', url: string, payload: unknown, token?: string): Promise<{ status: number; body: any }>;
  /** A second tenant with its own key. */
  createTenant(name: string): Promise<{ id: string; key: string }>;
  /** The ledger re-folded and compared with every stored counter and rollup: must be empty. */
  expectFolds(tenantId?: string): Promise<LedgerFold>;
  close(): Promise<void>;
}

export interface IngestBody {
  results: { index: number; status: string; idempotencyKey?: string; code?: string; reason?: string; late?: boolean; adjustmentId?: string }[];
  accepted: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  error?: { code: string; message: string };
}

export async function startMetering(dialect: Dialect, env: Record<string, string> = {}): Promise<MeteringApp> {
  const db = await freshDatabase(dialect);
  const app = await startTestApp(db, env);
  const key = app.firstStart!.apiKey;
  const auth = (token: string) => ({ authorization: `Bearer ${token}` });
  const harness: MeteringApp = {
    app,
    db,
    key,
    async ingest(events, options = {}) {
      const res = await app.server.inject({
        method: 'POST',
        url: '/v1/events/ingest',
        headers: { ...auth(options.token ?? key), 'content-type': 'application/json', ...(options.headers ?? {}) },
        payload: JSON.stringify({ events }),
      });
      return { status: res.statusCode, body: res.json() as IngestBody };
    },
    async get(url, token = key) {
      const res = await app.server.inject({ method: 'GET', url, headers: auth(token) });
      return { status: res.statusCode, body: res.json() };
    },
    async send(method, url, payload, token = key) {
      const res = await app.server.inject({
        method,
        url,
        headers: { ...auth(token), ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
      });
      return { status: res.statusCode, body: res.body.length > 0 ? res.json() : undefined };
    },
    async createTenant(name) {
      const res = await app.server.inject({ method: 'POST', url: '/v1/tenants', headers: auth(ADMIN_TOKEN), payload: { name } });
      const body = res.json() as { id?: string; tenant?: { id: string }; apiKey: string };
      return { id: body.tenant?.id ?? body.id ?? name, key: body.apiKey };
    },
    async expectFolds(tenantId = 'default') {
      const fold = await foldLedger(app.services.store.metering, tenantId, {});
      expect(fold.differences, 'counters and rollups equal the fold of the ledger').toEqual([]);
      expect(fold.differenceCount).toBe(0);
      return fold;
    },
    async close() {
      await app.close();
      await db.cleanup();
    },
  };
  return harness;
}

/** Epoch ms of a UTC date-time, for readable tests. */
export const utc = (y: number, m: number, d: number, h = 0, mi = 0, s = 0, ms = 0) => Date.UTC(y, m - 1, d, h, mi, s, ms);
