import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { SERVE_ENV, SERVE_NODE_FLAGS } from '../../src/ops/serve-node-flags.js';
import { startChildServer, type ChildServer } from '../lib/child-server.js';
import { runIngestLoad, type IngestLoadResult } from '../lib/ingest-load.js';
import { runPacedLoad, type PacedLoadResult } from '../lib/paced-load.js';
import { distFile } from '../lib/paths.js';
import { createBenchDatabase } from '../lib/postgres-db.js';
import { CpuWindow, type CpuWindowResult } from '../lib/proc-stats.js';
import { makeTempDir } from '../lib/temp-dir.js';
import { createPostgresStore } from '../../src/store/postgres/create-postgres-store.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import type { LedgerEventInput } from '../../src/store/metering-store.js';
import { contentHash, deriveIdempotencyKey } from '../../src/metering/idempotency-key.js';

/**
 * Usage ingest scenarios (issue 5): `POST /v1/events/ingest` with 1-event and 100-event requests from
 * 32 connections, with server-derived keys and with random client keys, on SQLite and PostgreSQL;
 * plus, in the same run, the store's raw insert ceiling for the same batches (writeEvents called
 * directly, no HTTP, JSON or validation) and the ratio between the two.
 *
 * Wiring into bench/run.ts: `const r = await runIngestScenarios(options, log); print(renderIngestReport(r))`.
 * Standalone: `node dist/bench/ingest-bench.js [--quick] [--only=sqlite|postgres] [--big=10000000]`.
 */

export type IngestDialect = 'sqlite' | 'postgres';
export type KeyMode = 'derived' | 'random';

export interface IngestBenchOptions {
  connections: number;
  warmupSeconds: number;
  seconds: number;
  ceilingSeconds: number;
  dialects: IngestDialect[];
  sizes: number[];
  keyModes: KeyMode[];
  /** Also measure at a large ledger (e.g. 10,000,000 rows): usage/current p99 and the ingest rate there. */
  bigRows?: number;
}

export interface IngestRun {
  dialect: IngestDialect;
  eventsPerRequest: number;
  keys: KeyMode;
  ledgerRowsBefore: number;
  load: IngestLoadResult;
  eventsPerSecond: number;
  requestsPerSecond: number;
  cpu: CpuWindowResult;
  peakRssMb: number;
  verification: { ok: boolean; detail: string };
}

export interface IngestCeiling {
  dialect: IngestDialect;
  eventsPerRequest: number;
  keys: KeyMode;
  writers: number;
  eventsPerSecond: number;
  batches: number;
}

export interface BigLedgerResult {
  dialect: IngestDialect;
  rows: number;
  loadSeconds: number;
  /** At the scenario's 32 connections (saturation: latency is mostly queueing). */
  currentUsage: IngestLoadResult;
  /** At 4 connections: the latency of the query itself. */
  /** 32 connections, open loop at CURRENT_USAGE_RATE requests/s: the latency the floor is about. */
  currentUsageAtRate: PacedLoadResult;
  ingestAtSize: IngestRun;
  ingestEmpty: IngestRun | undefined;
  rssMb: number;
}

export interface IngestBenchResult {
  loadAverageAtStart: number[];
  runs: IngestRun[];
  ceilings: IngestCeiling[];
  big: BigLedgerResult[];
  skipped: string[];
  notes: string[];
}

export const INGEST_FLOORS = {
  oneEventPerSecond: 8_500,
  hundredSqlitePerSecond: 200_000,
  hundredPostgresPerSecond: 100_000,
  currentUsageP99Ms: 5,
  bigLedgerRateShare: 0.75,
  residentMb: 250,
} as const;

const CUSTOMERS = 1000;
const METRICS = 5;
const SERIES = CUSTOMERS * METRICS;

/**
 * Unique events, in a fixed mix: 5,000 (metric, customer) series, each event of a request in a
 * different series, one millisecond of event time per 5,000 events (so a derived key never repeats
 * and all of it stays a few seconds behind the server clock).
 */
export class EventStream {
  private n = 0;
  constructor(
    private readonly baseTs: number,
    private readonly keys: KeyMode,
  ) {}

  private event(): { metric: string; customerRef: string; ts: number; quantity: string; key: string | undefined } {
    const i = this.n++;
    const series = (i * 7919) % SERIES;
    return {
      metric: `m${series % METRICS}`,
      customerRef: `cus_${Math.floor(series / METRICS)}`,
      ts: this.baseTs + Math.floor(i / SERIES),
      quantity: i % 10 === 0 ? '0.25' : String((i % 7) + 1),
      key: this.keys === 'random' ? randomUUID() : undefined,
    };
  }

  body(count: number): string {
    let out = '{"events":[';
    for (let j = 0; j < count; j++) {
      const e = this.event();
      if (j > 0) out += ',';
      out += `{"metric":"${e.metric}","customerRef":"${e.customerRef}","quantity":${e.quantity},"ts":${e.ts}`;
      if (e.key) out += `,"idempotencyKey":"${e.key}"`;
      out += '}';
    }
    return `${out}]}`;
  }

  /** The same events as ledger rows, for the raw store ceiling. */
  rows(count: number, tenantId: string, period: { start: number; end: number }, now: number): LedgerEventInput[] {
    const rows: LedgerEventInput[] = [];
    for (let j = 0; j < count; j++) {
      const e = this.event();
      const quantityMicro = BigInt(Math.round(Number(e.quantity) * 1e6));
      const key = e.key ?? deriveIdempotencyKey(tenantId, e.metric, e.customerRef, null, e.ts);
      rows.push({
        tenantId,
        idempotencyKey: key,
        metric: e.metric,
        customerRef: e.customerRef,
        resourceId: null,
        ts: e.ts,
        quantityMicro,
        meta: null,
        contentHash: contentHash(key, e.metric, e.customerRef, null, e.ts, quantityMicro),
        periodStart: period.start,
        periodEnd: period.end,
        late: false,
        source: 'api',
        receivedAt: now,
      });
    }
    return rows;
  }
}

interface IngestServer {
  child: ChildServer;
  apiKey: string;
  countEvents(): Promise<number>;
  close(): Promise<void>;
}

const ADMIN_TOKEN = `bench-admin-${randomBytes(16).toString('hex')}`;

async function startIngestServer(dialect: IngestDialect, databaseUrl: string | undefined): Promise<IngestServer> {
  const temp = makeTempDir(`ingest-${dialect}`);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: temp.dir,
    NODE_ENV: 'production',
    MW_SECRET_KEY: randomBytes(32).toString('hex'),
    MW_ADMIN_TOKEN: ADMIN_TOKEN,
    LOG_LEVEL: 'info',
    ...SERVE_ENV,
  };
  // Knobs for experiments (e.g. MW_INGEST_CONCURRENCY), passed through as given, like the webhook scenarios.
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('MW_') && !k.startsWith('MW_BENCH_') && v !== undefined && !(k in env)) env[k] = v;
  for (const k of ['MALLOC_ARENA_MAX', 'GLIBC_TUNABLES']) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  let child: ChildServer;
  try {
    child = await startChildServer({
      name: `meterwatch-ingest-${dialect}`,
      script: distFile('src/main.js'),
      args: ['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', temp.dir],
      env,
      cwd: temp.dir,
      nodeArgs: [...SERVE_NODE_FLAGS],
      readyAddress: (line) => (line.msg === 'meterwatch listening' && typeof line.address === 'string' ? line.address : undefined),
      startTimeoutMs: 60_000,
    });
  } catch (error) {
    await temp.remove();
    throw error;
  }
  const response = await fetch(`${child.url}/v1/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-tenant-id': 'default', 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bench', scopes: ['ingest', 'read', 'write'] }),
  });
  const created = (await response.json()) as { key?: string };
  if (!created.key) throw new Error(`could not create an API key: ${JSON.stringify(created)}`);
  const sqliteFile = path.join(temp.dir, 'meterwatch.db');
  return {
    child,
    apiKey: created.key,
    countEvents: () => (dialect === 'sqlite' ? countSqlite(sqliteFile) : countPostgres(databaseUrl!)),
    async close() {
      try {
        await child.stop();
      } finally {
        await temp.remove();
      }
    },
  };
}

async function countSqlite(file: string): Promise<number> {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    return Number((db.prepare('select count(*) as n from usage_events').get() as { n: number }).n);
  } finally {
    db.close();
  }
}

async function countPostgres(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>('select count(*)::text as n from usage_events')).rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

const verifyAll = (n: number) => {
  const tail = `"accepted":${n},"duplicates":0,"conflicts":0,"rejected":0}`;
  return (body: string) => body.endsWith(tail);
};

async function measureRun(server: IngestServer, dialect: IngestDialect, size: number, keys: KeyMode, options: IngestBenchOptions, log: (l: string) => void): Promise<IngestRun> {
  const stream = new EventStream(Date.now() - 5_000, keys);
  const common = { url: server.child.url, path: '/v1/events/ingest', apiKey: server.apiKey, connections: options.connections, nextBody: () => stream.body(size), verifyBody: verifyAll(size) };
  log(`  ${dialect}: ${size}-event requests, ${keys} keys: warm-up ${options.warmupSeconds} s…`);
  await runIngestLoad({ ...common, durationSeconds: options.warmupSeconds });
  const before = await settled(server);
  globalThis.gc?.();
  server.child.rss.resetWindow();
  const cpu = new CpuWindow(server.child.pid);
  log(`  ${dialect}: ${size}-event requests, ${keys} keys: measured ${options.seconds} s…`);
  const load = await runIngestLoad({ ...common, durationSeconds: options.seconds });
  const cpuResult = cpu.finish();
  const peakRssMb = server.child.rss.windowPeakMb();
  const after = await settled(server);
  const added = after - before;
  const acknowledged = load.ok * size;
  // Requests cut off at the end of a timed run may have been stored without a counted answer.
  const ok = added >= acknowledged && added - acknowledged <= options.connections * size && load.mismatches === 0 && load.non2xx === 0;
  return {
    dialect,
    eventsPerRequest: size,
    keys,
    ledgerRowsBefore: before,
    load,
    eventsPerSecond: acknowledged / load.seconds,
    requestsPerSecond: load.ok / load.seconds,
    cpu: cpuResult,
    peakRssMb,
    verification: {
      ok,
      detail: `ledger rows added ${added.toLocaleString('en-US')} vs acknowledged ${acknowledged.toLocaleString('en-US')} (≤ ${options.connections} requests in flight at the stop); ${load.mismatches} answers not all-accepted; ${load.non2xx} non-2xx`,
    },
  };
}

/** The ledger count once the server is quiet (requests cut off by the stop may still be inside it). */
async function settled(server: IngestServer): Promise<number> {
  let previous = await server.countEvents();
  for (let i = 0; i < 60; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const current = await server.countEvents();
    if (current === previous) return current;
    previous = current;
  }
  return previous;
}

async function measureCeiling(dialect: IngestDialect, size: number, keys: KeyMode, seconds: number, url: string | undefined): Promise<IngestCeiling> {
  const temp = dialect === 'sqlite' ? fs.mkdtempSync(path.join(os.tmpdir(), 'mw-bench-ceiling-')) : undefined;
  const store: KyselyStore = dialect === 'sqlite' ? createSqliteStore({ file: path.join(temp!, 'ceiling.db') }) : createPostgresStore({ url: url!, poolSize: 8 });
  try {
    await store.migrate();
    const now = Date.now();
    const period = { start: Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1), end: Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth() + 1, 1) };
    const stream = new EventStream(now - 5_000, keys);
    const writers = dialect === 'sqlite' ? 1 : 4;
    let events = 0;
    let batches = 0;
    let busyMs = 0;
    const deadline = performance.now() + seconds * 1000;
    const wallStart = performance.now();
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < deadline) {
          const rows = stream.rows(size, 'default', period, now);
          const t0 = performance.now();
          await store.metering.writeEvents(rows, { now, newAdjustmentId: () => `adj_${randomUUID()}` });
          busyMs += performance.now() - t0;
          events += size;
          batches += 1;
        }
      }),
    );
    const wallMs = performance.now() - wallStart;
    // One writer: the time inside the store (row generation excluded); several: wall time.
    const ms = writers === 1 ? busyMs : wallMs;
    return { dialect, eventsPerRequest: size, keys, writers, eventsPerSecond: (events / ms) * 1000, batches };
  } finally {
    await store.close();
    if (temp) fs.rmSync(temp, { recursive: true, force: true });
  }
}

export async function runIngestScenarios(options: IngestBenchOptions, log: (line: string) => void): Promise<IngestBenchResult> {
  const result: IngestBenchResult = { loadAverageAtStart: os.loadavg(), runs: [], ceilings: [], big: [], skipped: [], notes: [] };
  for (const dialect of options.dialects) {
    let url: string | undefined;
    let drop: (() => Promise<void>) | undefined;
    let ceilingUrl: string | undefined;
    let dropCeiling: (() => Promise<void>) | undefined;
    if (dialect === 'postgres') {
      const db = await createBenchDatabase();
      if (!db.ok) {
        result.skipped.push(`postgres: ${db.reason}`);
        log(`  postgres skipped: ${db.reason}`);
        continue;
      }
      url = db.url;
      drop = db.drop;
      const ceilingDb = await createBenchDatabase();
      if (ceilingDb.ok) {
        ceilingUrl = ceilingDb.url;
        dropCeiling = ceilingDb.drop;
      }
    }
    try {
      const server = await startIngestServer(dialect, url);
      try {
        for (const size of options.sizes) for (const keys of options.keyModes) result.runs.push(await measureRun(server, dialect, size, keys, options, log));
        if (options.bigRows) result.big.push(await measureBig(server, dialect, options, log, result.runs));
      } finally {
        await server.close();
      }
      for (const size of options.sizes) {
        for (const keys of options.keyModes) {
          log(`  ${dialect}: raw store ceiling, ${size}-event batches, ${keys} keys (${options.ceilingSeconds} s)…`);
          if (dialect === 'postgres' && !ceilingUrl) continue;
          result.ceilings.push(await measureCeiling(dialect, size, keys, options.ceilingSeconds, ceilingUrl));
          if (dialect === 'postgres' && dropCeiling) {
            // A fresh database per ceiling: each measurement starts from an empty ledger, like SQLite.
            await dropCeiling();
            const next = await createBenchDatabase();
            ceilingUrl = next.ok ? next.url : undefined;
            dropCeiling = next.ok ? next.drop : undefined;
          }
        }
      }
    } finally {
      await drop?.();
      await dropCeiling?.();
    }
  }
  return result;
}

/**
 * Loads the ledger to `bigRows` through the server itself (100-event requests from 32 connections:
 * no second writer on the file), then measures `usage/current` and the ingest rate at that size.
 */
async function measureBig(server: IngestServer, dialect: IngestDialect, options: IngestBenchOptions, log: (l: string) => void, runs: IngestRun[]): Promise<BigLedgerResult> {
  const target = options.bigRows!;
  const started = performance.now();
  log(`  ${dialect}: loading the ledger to ${target.toLocaleString('en-US')} rows over HTTP (100-event requests)…`);
  // A minute back: the same period as the measured runs (never late), and no key shared with them.
  const stream = new EventStream(Date.now() - 60_000, 'derived');
  for (let guard = 0; guard < 10_000 && (await server.countEvents()) < target; guard++) {
    await runIngestLoad({ url: server.child.url, path: '/v1/events/ingest', apiKey: server.apiKey, connections: options.connections, durationSeconds: 20, nextBody: () => stream.body(100) });
    log(`    ${(await server.countEvents()).toLocaleString('en-US')} rows…`);
  }
  const loadSeconds = (performance.now() - started) / 1000;
  log(`  ${dialect}: GET /v1/usage/current at ${(await server.countEvents()).toLocaleString('en-US')} rows…`);
  let c = 0;
  const current = (connections: number) =>
    runIngestLoad({
      url: server.child.url,
      path: '/v1/usage/current?customerRef=cus_0',
      method: 'GET',
      apiKey: server.apiKey,
      connections,
      durationSeconds: options.seconds,
      nextPath: () => `/v1/usage/current?customerRef=cus_${c++ % CUSTOMERS}`,
    });
  const currentUsage = await current(options.connections);
  const currentUsageAtRate = await runPacedLoad({
    url: server.child.url,
    path: () => `/v1/usage/current?customerRef=cus_${c++ % CUSTOMERS}`,
    headers: { authorization: `Bearer ${server.apiKey}` },
    connections: options.connections,
    ratePerSecond: CURRENT_USAGE_RATE,
    durationSeconds: options.seconds,
  });
  const ingestAtSize = await measureRun(server, dialect, 100, 'derived', options, log);
  return {
    dialect,
    rows: await server.countEvents(),
    loadSeconds,
    currentUsage,
    currentUsageAtRate,
    ingestAtSize,
    ingestEmpty: runs.find((r) => r.dialect === dialect && r.eventsPerRequest === 100 && r.keys === 'derived'),
    rssMb: server.child.rss.overallPeakMb(),
  };
}

/**
 * The offered load of the usage/current latency floor. A closed-loop run (each connection sends
 * as soon as it has an answer) saturates any server, and its p99 is then queueing: 32 in flight ÷
 * throughput. The floor is about the request, so it is measured open loop (bench/lib/paced-load.ts)
 * at a fixed rate — about a quarter of the saturated rate on the 2-core machine while nothing else
 * runs — over up to 32 connections; the saturated run is reported next to it as capacity.
 */
export const CURRENT_USAGE_RATE = 1_000;

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '—');

export function renderIngestReport(r: IngestBenchResult): string {
  const lines: string[] = [];
  lines.push(`Usage ingest (load average at start ${r.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')})`);
  lines.push('');
  const header = ['store', 'events/req', 'keys', 'events/s', 'req/s', 'p50 ms', 'p99 ms', 'server cores', 'other cores', 'peak RSS', 'raw ceiling ev/s', 'share of ceiling', 'check'];
  const rows = r.runs.map((run) => {
    const ceiling = r.ceilings.find((c) => c.dialect === run.dialect && c.eventsPerRequest === run.eventsPerRequest && c.keys === run.keys);
    return [
      run.dialect,
      String(run.eventsPerRequest),
      run.keys,
      int(run.eventsPerSecond),
      int(run.requestsPerSecond),
      ms(run.load.latency.p50),
      ms(run.load.latency.p99),
      run.cpu.serverCores === undefined ? '—' : run.cpu.serverCores.toFixed(2),
      run.cpu.otherCores === undefined ? '—' : run.cpu.otherCores.toFixed(2),
      `${run.peakRssMb.toFixed(0)} MB`,
      ceiling ? `${int(ceiling.eventsPerSecond)} (${ceiling.writers}w)` : '—',
      ceiling ? `${((run.eventsPerSecond / ceiling.eventsPerSecond) * 100).toFixed(0)} %` : '—',
      run.verification.ok ? 'ok' : 'FAILED',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  lines.push(header.map((h, i) => h.padEnd(widths[i]!)).join('  '));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) lines.push(row.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  lines.push('');
  lines.push('Floors (issue 5):');
  for (const f of ingestFloorChecks(r)) lines.push(`  ${f.pass ? 'PASS' : 'FAIL'}  ${f.name}: ${f.measured}`);
  for (const run of r.runs) if (!run.verification.ok) lines.push(`  verification ${run.dialect} ${run.eventsPerRequest}/${run.keys}: ${run.verification.detail}`);
  for (const b of r.big) {
    lines.push('');
    lines.push(`${b.dialect} at ${int(b.rows)} ledger rows (loaded in ${b.loadSeconds.toFixed(0)} s):`);
    lines.push(`  GET /v1/usage/current, 32 connections: ${int(b.currentUsage.ok / b.currentUsage.seconds)} req/s, p50 ${ms(b.currentUsage.latency.p50)} ms, p99 ${ms(b.currentUsage.latency.p99)} ms`);
    lines.push(`  GET /v1/usage/current, 32 connections at ${int(CURRENT_USAGE_RATE)} req/s offered (open loop, latency from the due time): ${int(b.currentUsageAtRate.ok / b.currentUsageAtRate.seconds)} req/s answered, p50 ${ms(b.currentUsageAtRate.latency.p50)} ms, p99 ${ms(b.currentUsageAtRate.latency.p99)} ms`);
    lines.push(`  ingest 100-event derived: ${int(b.ingestAtSize.eventsPerSecond)} events/s (empty ledger: ${b.ingestEmpty ? int(b.ingestEmpty.eventsPerSecond) : '—'}); server peak RSS ${b.rssMb.toFixed(0)} MB`);
  }
  for (const s of r.skipped) lines.push(`skipped: ${s}`);
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}

export function ingestFloorChecks(r: IngestBenchResult): { name: string; pass: boolean; measured: string }[] {
  const find = (d: IngestDialect, size: number) => r.runs.find((x) => x.dialect === d && x.eventsPerRequest === size && x.keys === 'derived');
  const checks: { name: string; pass: boolean; measured: string }[] = [];
  for (const d of ['sqlite', 'postgres'] as const) {
    const one = find(d, 1);
    if (one) checks.push({ name: `${d}: 1-event requests ≥ ${int(INGEST_FLOORS.oneEventPerSecond)} events/s`, pass: one.eventsPerSecond >= INGEST_FLOORS.oneEventPerSecond && one.verification.ok, measured: `${int(one.eventsPerSecond)}/s` });
    const hundred = find(d, 100);
    const floor = d === 'sqlite' ? INGEST_FLOORS.hundredSqlitePerSecond : INGEST_FLOORS.hundredPostgresPerSecond;
    if (hundred) checks.push({ name: `${d}: 100-event requests ≥ ${int(floor)} events/s`, pass: hundred.eventsPerSecond >= floor && hundred.verification.ok, measured: `${int(hundred.eventsPerSecond)}/s` });
  }
  for (const b of r.big) {
    checks.push({
      name: `${b.dialect}: usage/current p99 < ${INGEST_FLOORS.currentUsageP99Ms} ms at ${int(b.rows)} rows (32 connections, ${int(CURRENT_USAGE_RATE)} req/s)`,
      pass: b.currentUsageAtRate.latency.p99 < INGEST_FLOORS.currentUsageP99Ms && b.currentUsageAtRate.ok === b.currentUsageAtRate.sent,
      measured: `${ms(b.currentUsageAtRate.latency.p99)} ms at ${int(CURRENT_USAGE_RATE)} req/s; saturated: ${ms(b.currentUsage.latency.p99)} ms at ${int(b.currentUsage.ok / b.currentUsage.seconds)} req/s`,
    });
    if (b.ingestEmpty) {
      const share = b.ingestAtSize.eventsPerSecond / b.ingestEmpty.eventsPerSecond;
      checks.push({ name: `${b.dialect}: ingest at ${int(b.rows)} rows within 25 % of empty`, pass: share >= INGEST_FLOORS.bigLedgerRateShare, measured: `${(share * 100).toFixed(0)} %` });
    }
    checks.push({ name: `${b.dialect}: resident memory < ${INGEST_FLOORS.residentMb} MB`, pass: b.rssMb < INGEST_FLOORS.residentMb, measured: `${b.rssMb.toFixed(0)} MB` });
  }
  const rss = Math.max(0, ...r.runs.map((x) => x.peakRssMb));
  if (r.runs.length > 0) checks.push({ name: `server resident memory < ${INGEST_FLOORS.residentMb} MB`, pass: rss < INGEST_FLOORS.residentMb, measured: `${rss.toFixed(0)} MB peak` });
  return checks;
}
