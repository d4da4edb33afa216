import { afterAll, afterEach, beforeAll } from 'vitest';
import { startMetering, type MeteringApp } from '../metering/metering-harness.js';
import type { Dialect } from '../support/dialects.js';

/** The real app on one dialect, with a fresh tenant per test so plans never leak between tests. */
export interface ProjectionApp {
  m: MeteringApp;
  call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, token?: string): Promise<{ status: number; body: any }>;
  tenant(name: string): Promise<Tenant>;
}

export interface Tenant {
  id: string;
  key: string;
  putPrice(metric: string, body: unknown, customerRef?: string): Promise<{ status: number; body: any }>;
  ingest(events: { metric: string; customerRef: string; quantity: number; ts: string }[]): Promise<void>;
  project(body: Record<string, unknown>): Promise<{ status: number; body: any }>;
}

export async function startProjectionApp(dialect: Dialect): Promise<ProjectionApp> {
  const m = await startMetering(dialect);
  const call: ProjectionApp['call'] = async (method, url, payload, token = m.key) => {
    const res = await m.app.server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(payload === undefined ? {} : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
    return { status: res.statusCode, body: res.body.length > 0 ? res.json() : undefined };
  };
  return {
    m,
    call,
    async tenant(name) {
      const { id, key } = await m.createTenant(`${name}-${dialect}`);
      return {
        id,
        key,
        putPrice: (metric, body, customerRef) =>
          call('PUT', customerRef === undefined ? `/v1/prices/${metric}` : `/v1/customers/${encodeURIComponent(customerRef)}/prices/${metric}`, body, key),
        async ingest(events) {
          const res = await m.ingest(events, { token: key });
          if (res.status !== 200 || res.body.accepted !== events.length) throw new Error(`ingest failed: ${JSON.stringify(res.body)}`);
        },
        project: (body) => call('POST', '/v1/usage/projection', body, key),
      };
    },
  };
}

/**
 * One projection app for the describe block it is called in: started before its tests, closed after
 * them; with `resetClockTo`, the clock goes back there after every test (tests move it, never sleep).
 */
export function useProjectionApp(dialect: Dialect, options: { resetClockTo?: number } = {}): ProjectionApp {
  let started: ProjectionApp | undefined;
  const app = (): ProjectionApp => {
    if (!started) throw new Error('the projection app is started in beforeAll');
    return started;
  };
  beforeAll(async () => {
    started = await startProjectionApp(dialect);
  });
  const home = options.resetClockTo;
  if (home !== undefined) afterEach(() => app().m.app.clock.set(home));
  afterAll(async () => {
    await started?.m.close();
  });
  return {
    get m() {
      return app().m;
    },
    call: (...args) => app().call(...args),
    tenant: (name) => app().tenant(name),
  };
}

/** The issue's graduated tiers: ≤100 at 1.00, ≤1,000 at 0.80, the rest at 0.60. */
export const ISSUE_TIERS = [
  { upTo: 100, unitPrice: '1.00' },
  { upTo: 1000, unitPrice: '0.80' },
  { upTo: null, unitPrice: '0.60' },
];

export const money = (minor: number, formatted: string) => ({ minor, formatted });
