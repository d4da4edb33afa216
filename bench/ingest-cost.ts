/**
 * Per-event CPU cost of usage ingest, measured in-process (`npm run bench:ingest-cost`), so that
 * optimisations can be compared on a shared machine: CPU time, not throughput.
 *
 *   route   the JavaScript of one 100-event request, piece by piece, no store: body parse,
 *           envelope check, per-event validation + key derivation (and the key hash alone), period
 *           assignment + result building (IngestService with a batcher that answers at once) and
 *           the response serialisation (fast-json-stringify, as Fastify does with the response schema).
 *   store   `store.metering.writeEvents` with ready rows in groups of `--group` events (default 2,500:
 *           the size group commit reaches with 32 connections of 100 events), derived keys, the
 *           bench's worst-case mix (every event of a group in its own counter and rollup series).
 *           CPU = this process (SQLite runs inside it) + the PostgreSQL backends of the database.
 *           `--by-statement` adds the time per statement kind (SQLite: synchronous time on the
 *           event loop, ≈ CPU; PostgreSQL: wall time of each round trip).
 *   app     the whole app in-process (`createApp`, `server.inject`): waves of 25 concurrent
 *           100-event requests, so group commit forms groups of ~2,500 as under load; then the
 *           CPU of one `GET /v1/usage/current` on those counters.
 *
 * Flags: --only=sqlite|postgres, --parts=route,store,app, --events=N (events per store/app phase,
 * default 200,000), --group=N, --by-statement.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import fastJsonStringify from 'fast-json-stringify';
import { createApp } from '../src/app.js';
import { parseConfig } from '../src/config.js';
import { parseJsonExact } from '../src/metering/exact-json.js';
import { deriveIdempotencyKey } from '../src/metering/idempotency-key.js';
import { eventsOf, namedTenants } from '../src/metering/ingest-request.js';
import { IngestResponse } from '../src/metering/ingest-schemas.js';
import { IngestService } from '../src/metering/ingest-service.js';
import type { IngestBatcher } from '../src/metering/ingest-batcher.js';
import { PeriodResolver } from '../src/metering/period-resolver.js';
import { prepareEvent } from '../src/metering/prepare-event.js';
import { systemClock } from '../src/shared/clock.js';
import type { KyselyStore } from '../src/store/kysely-store.js';
import type { LedgerEventInput } from '../src/store/metering-store.js';
import { createPostgresStore } from '../src/store/postgres/create-postgres-store.js';
import { createSqliteStore } from '../src/store/sqlite/create-sqlite-store.js';
import { cleanupAll, onCleanup } from './lib/cleanup.js';
import { createBenchDatabase } from './lib/postgres-db.js';
import { processCpuSeconds } from './lib/proc-stats.js';
import { EventStream } from './scenarios/ingest.js';

type Dialect = 'sqlite' | 'postgres';

interface Args {
  only: Set<Dialect>;
  parts: Set<string>;
  events: number;
  group: number;
  rounds: number;
  byStatement: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { only: new Set(['sqlite', 'postgres']), parts: new Set(['route', 'store', 'app']), events: 200_000, group: 2_500, rounds: 3, byStatement: false };
  for (const a of argv) {
    if (a.startsWith('--only=')) args.only = new Set(a.slice(7).split(',') as Dialect[]);
    else if (a.startsWith('--parts=')) args.parts = new Set(a.slice(8).split(','));
    else if (a.startsWith('--events=')) args.events = Number(a.slice(9));
    else if (a.startsWith('--group=')) args.group = Number(a.slice(8));
    else if (a.startsWith('--rounds=')) args.rounds = Number(a.slice(9));
    else if (a === '--by-statement') args.byStatement = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

const SIZE = 100;
const MONTH = (() => {
  const d = new Date();
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
})();

/** CPU µs of this process (user + system) during `fn`. */
async function cpuOf(fn: () => Promise<void> | void): Promise<{ cpuUs: number; wallMs: number }> {
  const wall = performance.now();
  const before = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(before);
  return { cpuUs: used.user + used.system, wallMs: performance.now() - wall };
}

const fmt = (us: number) => us.toFixed(2).padStart(7);

// ---- route ------------------------------------------------------------------------------------

async function routeCosts(log: (l: string) => void): Promise<void> {
  const requests = 2_000;
  const stream = new EventStream(Date.now() - 5_000, 'derived');
  const bodies = Array.from({ length: requests }, () => stream.body(SIZE));
  const events = requests * SIZE;
  const limits = { maxFutureMs: 300_000, metaMaxBytes: 4096, latenessMs: 48 * 3_600_000 };
  const now = Date.now();
  // Periods: the real resolver with every customer cached (calendar months: no customer records).
  const stubStore = { metering: { getCustomers: async () => [] } } as unknown as KyselyStore;
  const periods = new PeriodResolver(stubStore, systemClock, { cacheMs: 3_600_000, maxEntries: 100_000 });
  const batcher = { submit: async (rows: LedgerEventInput[]) => rows.map(() => ({ status: 'inserted' as const, adjustmentId: null })) } as unknown as IngestBatcher;
  const service = new IngestService(batcher, periods, systemClock, limits);
  const serialize = fastJsonStringify(IngestResponse as object);

  const parsed = bodies.map((b) => parseJsonExact(b).value);
  const lists = parsed.map((p) => eventsOf(p, 1000));
  const outcomes: Awaited<ReturnType<IngestService['ingest']>>[] = [];
  for (const list of lists.slice(0, 20)) outcomes.push(await service.ingest('default', list, { source: 'api', exact: false }));

  const rows: [string, () => Promise<void> | void][] = [
    ['JSON parse (exact-json)', () => { for (const b of bodies) parseJsonExact(b); }],
    ['envelope check + tenants', () => { for (const p of parsed) namedTenants(eventsOf(p, 1000)); }],
    ['prepareEvent (validate, key, hash)', () => { for (const l of lists) for (const e of l) prepareEvent(e, 'default', now, limits, false); }],
    ['  of which derived-key SHA-256', () => { for (const l of lists) for (const e of l as { metric: string; customerRef: string; ts: number }[]) deriveIdempotencyKey('default', e.metric, e.customerRef, null, e.ts); }],
    ['IngestService (prepare+period+results)', async () => { for (const l of lists) await service.ingest('default', l, { source: 'api', exact: false }); }],
    ['response JSON (fast-json-stringify)', () => { for (let i = 0; i < requests; i++) serialize(outcomes[i % outcomes.length]); }],
  ];
  log(`route (JavaScript of 100-event requests, no store), CPU µs per event, ${events.toLocaleString('en-US')} events:`);
  for (const [label, fn] of rows) {
    await fn(); // warm-up
    const { cpuUs } = await cpuOf(fn);
    log(`  ${fmt(cpuUs / events)}  ${label}`);
  }
}

// ---- stores -----------------------------------------------------------------------------------

interface OpenedStore {
  store: KyselyStore;
  /** CPU seconds of the database server processes serving this database (0 for SQLite). */
  serverCpu(): Promise<number>;
  close(): Promise<void>;
}

async function openStore(dialect: Dialect): Promise<OpenedStore> {
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-ingest-cost-'));
    const removeDir = onCleanup(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), () => fs.rmSync(dir, { recursive: true, force: true }));
    const store = createSqliteStore({ file: path.join(dir, 'cost.db') });
    await store.migrate();
    return {
      store,
      serverCpu: async () => 0,
      close: async () => {
        await store.close();
        await removeDir();
      },
    };
  }
  const created = await createBenchDatabase();
  if (!created.ok) throw new Error(created.reason);
  const store = createPostgresStore({ url: created.url, poolSize: 8 });
  await store.migrate();
  const name = new URL(created.url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: created.url });
  await admin.connect();
  const adminPid = Number((await admin.query<{ p: number }>('select pg_backend_pid() as p')).rows[0]!.p);
  return {
    store,
    async serverCpu() {
      const pids = (await admin.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [name])).rows.map((r) => Number(r.pid));
      let total = 0;
      for (const pid of pids) if (pid !== adminPid) total += processCpuSeconds(pid) ?? 0;
      return total;
    },
    async close() {
      await admin.end();
      await store.close();
      await created.drop();
    },
  };
}

/** Backends come and go with the pool: sample the ones alive around `fn` (they persist while busy). */
async function withServerCpu(opened: OpenedStore, fn: () => Promise<void>): Promise<{ cpuUs: number; serverUs: number; wallMs: number }> {
  // PostgreSQL backends are sampled by pid before and after: a pool that keeps its connections
  // (idle timeout 30 s) keeps its pids, so the difference is the work done for us.
  const server0 = await opened.serverCpu();
  const own = await cpuOf(fn);
  const server1 = await opened.serverCpu();
  return { cpuUs: own.cpuUs, serverUs: (server1 - server0) * 1e6, wallMs: own.wallMs };
}

// ---- per-statement timing ------------------------------------------------------------------------

const statementTimes = new Map<string, { calls: number; ms: number }>();
let timing = false;

function statementKind(sql: string): string {
  const s = sql.trim().toLowerCase();
  if (s.startsWith('insert into usage_events')) return s.includes('returning') ? 'ledger insert (returning)' : 'ledger insert';
  if (s.startsWith('insert into usage_counters')) return 'counter upsert';
  if (s.startsWith('insert into usage_rollups')) return 'rollup upsert';
  if (s.startsWith('commit')) return 'commit';
  if (s.startsWith('begin')) return 'begin';
  return s.split(/\s+/).slice(0, 3).join(' ');
}

function record(kind: string, ms: number): void {
  if (!timing) return;
  const s = statementTimes.get(kind);
  if (s) {
    s.calls += 1;
    s.ms += ms;
  } else statementTimes.set(kind, { calls: 1, ms });
}

type AnyFn = (...args: unknown[]) => unknown;

function instrumentDrivers(): void {
  const require = createRequire(import.meta.url);
  const Database = require('better-sqlite3') as { prototype: { prepare: AnyFn } };
  const originalPrepare = Database.prototype.prepare;
  Database.prototype.prepare = function prepare(this: unknown, ...args: unknown[]) {
    const statement = originalPrepare.apply(this, args) as Record<string, AnyFn>;
    const kind = statementKind(String(args[0]));
    for (const method of ['run', 'all', 'get'] as const) {
      const original = statement[method];
      if (typeof original !== 'function') continue;
      statement[method] = function timed(this: unknown, ...a: unknown[]) {
        const t0 = performance.now();
        try {
          return original.apply(this, a);
        } finally {
          record(kind, performance.now() - t0);
        }
      };
    }
    return statement;
  };
  const clientQuery = pg.Client.prototype.query as unknown as AnyFn;
  (pg.Client.prototype as unknown as { query: AnyFn }).query = function query(this: unknown, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text ?? '';
    const t0 = performance.now();
    const result = clientQuery.apply(this, args);
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      return (result as Promise<unknown>).finally(() => record(statementKind(text), performance.now() - t0));
    }
    return result;
  };
}

async function storeCosts(dialect: Dialect, args: Args, log: (l: string) => void): Promise<void> {
  const opened = await openStore(dialect);
  try {
    const now = Date.now();
    const stream = new EventStream(now - 5_000, 'derived');
    const groups = Math.max(1, Math.floor(args.events / args.group));
    const write = (rows: LedgerEventInput[]) => opened.store.metering.writeEvents(rows, { now, newAdjustmentId: () => `adj_${randomUUID()}` });
    await write(stream.rows(args.group, 'default', MONTH, now));
    const n = groups * args.group;
    // Rounds on the same database (the ledger grows by `n` each): the spread shows the noise of a
    // shared machine; compare minima.
    const own: number[] = [];
    const server: number[] = [];
    const total: number[] = [];
    for (let round = 0; round < args.rounds; round++) {
      const batches = Array.from({ length: groups }, () => stream.rows(args.group, 'default', MONTH, now));
      statementTimes.clear();
      timing = args.byStatement;
      const r = await withServerCpu(opened, async () => {
        for (const b of batches) await write(b);
      });
      timing = false;
      own.push(r.cpuUs / n);
      server.push(r.serverUs / n);
      total.push((r.cpuUs + r.serverUs) / n);
    }
    const spread = (xs: number[]) => `${fmt(Math.min(...xs))}  (rounds: ${xs.map((x) => x.toFixed(2)).join(', ')})`;
    log(`store ${dialect}: writeEvents, groups of ${args.group.toLocaleString('en-US')} (derived keys), ${args.rounds} rounds of ${n.toLocaleString('en-US')} events, CPU µs per event, minimum:`);
    log(`  ${spread(own)}  this process${dialect === 'sqlite' ? ' (JS + SQLite)' : ' (JS + pg driver)'}`);
    if (dialect === 'postgres') {
      log(`  ${spread(server)}  PostgreSQL backends`);
      log(`  ${spread(total)}  total`);
    }
    // usage/current's store read: one customer's counters (5 metrics) in the current period.
    const reads = 20_000;
    const read = (i: number) => opened.store.metering.getCounters('default', { customerRef: `cus_${i % 1000}`, periodStart: MONTH.start });
    if ((await read(0)).length !== 5) throw new Error('expected 5 counters for cus_0');
    for (let i = 0; i < 2_000; i++) await read(i);
    const rr = await withServerCpu(opened, async () => {
      for (let i = 0; i < reads; i++) await read(i);
    });
    log(`  getCounters (usage/current's read, 5 rows), CPU µs per call: ${fmt(rr.cpuUs / reads).trim()} this process${dialect === 'postgres' ? `, ${fmt(rr.serverUs / reads).trim()} PostgreSQL backend` : ''}`);
    if (args.byStatement) {
      log('  last round by statement (SQLite: time on the event loop; PostgreSQL: round-trip wall time):');
      for (const [kind, s] of [...statementTimes.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
        log(`  ${fmt((s.ms * 1000) / n)}  ${kind} (${s.calls} calls)`);
      }
    }
  } finally {
    await opened.close();
  }
}

// ---- whole app ----------------------------------------------------------------------------------

async function appCosts(dialect: Dialect, args: Args, log: (l: string) => void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-ingest-cost-app-'));
  // Registered at once: removed even when setup fails before the try below.
  const removeDir = onCleanup(`remove ${dir}`, () => fs.rmSync(dir, { recursive: true, force: true }), () => fs.rmSync(dir, { recursive: true, force: true }));
  let drop: (() => Promise<void>) | undefined;
  let databaseUrl = `sqlite://${path.join(dir, 'app.db')}`;
  let serverCpu = async () => 0;
  let adminClient: pg.Client | undefined;
  if (dialect === 'postgres') {
    const created = await createBenchDatabase();
    if (!created.ok) throw new Error(created.reason);
    drop = created.drop;
    databaseUrl = created.url;
    const name = new URL(created.url).pathname.slice(1);
    adminClient = new pg.Client({ connectionString: created.url });
    await adminClient.connect();
    const adminPid = Number((await adminClient.query<{ p: number }>('select pg_backend_pid() as p')).rows[0]!.p);
    const client = adminClient;
    serverCpu = async () => {
      const pids = (await client.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [name])).rows.map((r) => Number(r.pid));
      let total = 0;
      for (const pid of pids) if (pid !== adminPid) total += processCpuSeconds(pid) ?? 0;
      return total;
    };
  }
  const config = parseConfig(
    { DATABASE_URL: databaseUrl, MW_DATA_DIR: dir, MW_ADMIN_TOKEN: `bench-${randomBytes(16).toString('hex')}`, MW_SECRET_KEY: randomBytes(32).toString('hex'), LOG_LEVEL: 'silent' },
    {},
    dir,
  );
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  try {
    await app.server.ready();
    const key = app.firstStart?.apiKey;
    if (!key) throw new Error('no first API key');
    const stream = new EventStream(Date.now() - 5_000, 'derived');
    const wave = 25;
    const waves = Math.max(1, Math.floor(args.events / (wave * SIZE)));
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const runWave = async (bodies: string[]) => {
      const responses = await Promise.all(bodies.map((payload) => app.server.inject({ method: 'POST', url: '/v1/events/ingest', headers, payload })));
      for (const r of responses) if (r.statusCode !== 200 || !r.body.endsWith(`"accepted":${SIZE},"duplicates":0,"conflicts":0,"rejected":0}`)) throw new Error(`ingest answered ${r.statusCode}: ${r.body.slice(0, 200)}`);
    };
    await runWave(Array.from({ length: wave }, () => stream.body(SIZE)));
    const all = Array.from({ length: waves }, () => Array.from({ length: wave }, () => stream.body(SIZE)));
    const s0 = await serverCpu();
    const r = await cpuOf(async () => {
      for (const bodies of all) await runWave(bodies);
    });
    const s1 = await serverCpu();
    const n = waves * wave * SIZE;
    log(`app ${dialect}: server.inject, ${waves} waves of ${wave} concurrent 100-event requests (${n.toLocaleString('en-US')} events), CPU µs per event:`);
    log(`  ${fmt(r.cpuUs / n)}  this process (Fastify + inject + ingest + ${dialect === 'sqlite' ? 'SQLite' : 'pg driver'})`);
    if (dialect === 'postgres') log(`  ${fmt(((s1 - s0) * 1e6) / n)}  PostgreSQL backends`);
    log(`  ${fmt((r.cpuUs + (s1 - s0) * 1e6) / n)}  total   (wall ${fmt((r.wallMs * 1000) / n)} µs/event)`);

    // GET /v1/usage/current on the counters just written: the cost of one read request.
    const reads = 20_000;
    const get = (i: number) => app.server.inject({ method: 'GET', url: `/v1/usage/current?customerRef=cus_${i % 1000}`, headers: { authorization: `Bearer ${key}` } });
    const probe = await get(0);
    if (probe.statusCode !== 200 || !probe.body.includes('"metrics":[{')) throw new Error(`usage/current answered ${probe.statusCode}: ${probe.body.slice(0, 200)}`);
    for (let i = 0; i < 2_000; i++) await get(i);
    const g0 = await serverCpu();
    const g = await cpuOf(async () => {
      for (let i = 0; i < reads; i += 32) await Promise.all(Array.from({ length: 32 }, (_, j) => get(i + j)));
    });
    const g1 = await serverCpu();
    log(`app ${dialect}: GET /v1/usage/current (5 counters per answer), ${reads.toLocaleString('en-US')} requests in waves of 32, CPU µs per request:`);
    log(`  ${fmt(g.cpuUs / reads)}  this process (Fastify + inject + auth + query)`);
    // Its parts without HTTP: the API key check (cached lookup, one HMAC) and the query service.
    const auth = await cpuOf(async () => {
      for (let i = 0; i < reads; i++) await app.services.authenticator.authenticate(`Bearer ${key}`);
    });
    log(`  ${fmt(auth.cpuUs / reads)}  of which the API key check (authenticator, cached)`);
    const service = await cpuOf(async () => {
      for (let i = 0; i < reads; i++) await app.services.metering.query.current('default', `cus_${i % 1000}`);
    });
    log(`  ${fmt(service.cpuUs / reads)}  of which UsageQuery.current (period, store read, views)`);
    // The floor under that: inject and Fastify answering a constant (GET /health/live).
    const live = await cpuOf(async () => {
      for (let i = 0; i < reads; i += 32) await Promise.all(Array.from({ length: 32 }, () => app.server.inject({ method: 'GET', url: '/health/live' })));
    });
    log(`  ${fmt(live.cpuUs / reads)}  of which the floor: GET /health/live through the same inject`);
    if (dialect === 'postgres') log(`  ${fmt(((g1 - g0) * 1e6) / reads)}  PostgreSQL backends`);
  } finally {
    await app.close();
    await adminClient?.end();
    await drop?.();
    await removeDir();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (l: string) => console.log(l);
  log(`ingest-cost: node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString()}`);
  if (args.byStatement) instrumentDrivers();
  if (args.parts.has('route')) await routeCosts(log);
  for (const dialect of ['sqlite', 'postgres'] as const) {
    if (!args.only.has(dialect)) continue;
    if (args.parts.has('store')) await storeCosts(dialect, args, log);
    if (args.parts.has('app')) await appCosts(dialect, args, log);
  }
  log(`load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
