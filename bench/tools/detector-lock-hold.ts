/**
 * How long the detectors hold SQLite's write lock, per batch size. With the detectors in a worker
 * thread, the request thread's insert waits (busy timeout, synchronously) while the worker holds the
 * lock, so the longest hold is a direct request-thread stall. Stores `events` signed webhooks, then
 * for each batch size drains a copy of that database and times every write: a transaction from
 * BEGIN IMMEDIATE to COMMIT, or an autocommit write statement. In-process, one thread: CPU-bound
 * figures, meaningful on a busy machine only as ratios.
 *
 *   npm run build && node dist/bench/tools/detector-lock-hold.js [events=4000] [sizes=8,16,32,64]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import pino from 'pino';
import { parseConfig } from '../../src/config.js';
import { createApp } from '../../src/app.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import { DETECTORS } from '../../src/detectors/rules/index.js';
import { DetectorSettings } from '../../src/detectors/detector-settings.js';
import { IncidentService } from '../../src/detectors/incident-service.js';
import { DetectorEngine } from '../../src/detectors/detector-engine.js';
import { systemClock } from '../../src/shared/clock.js';
import { createIdGenerator } from '../../src/shared/ids.js';
import { EventFactory } from '../lib/signed-events.js';

const events = Number(process.argv[2] ?? 4_000);
const sizes = (process.argv[3] ?? '8,16,32,64').split(',').map(Number);

// Time every statement run through better-sqlite3 in this thread.
const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as { prototype: { prepare(sql: string): unknown } };
let inTx: number | undefined;
const holds: number[] = [];
const labels = new Map<string, { n: number; total: number; max: number }>();
let txFirst: string | undefined;
const note = (label: string, ms: number) => {
  const e = labels.get(label) ?? { n: 0, total: 0, max: 0 };
  e.n += 1;
  e.total += ms;
  e.max = Math.max(e.max, ms);
  labels.set(label, e);
};
const originalPrepare = Database.prototype.prepare;
Database.prototype.prepare = function (this: unknown, sql: string) {
  const statement = originalPrepare.call(this, sql) as Record<string, (...a: unknown[]) => unknown>;
  const write = /^\s*(insert|update|delete|replace)/i.test(sql);
  for (const method of ['run', 'all', 'get', 'iterate']) {
    const fn = statement[method];
    if (typeof fn !== 'function') continue;
    statement[method] = function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      const result = fn.apply(statement, args);
      const t1 = performance.now();
      if (/^begin/i.test(sql)) {
        inTx = t0;
        txFirst = undefined;
      } else if (/^(commit|rollback)/i.test(sql)) {
        if (inTx !== undefined) {
          holds.push(t1 - inTx);
          note(`tx: ${txFirst}`, t1 - inTx);
        }
        inTx = undefined;
      } else if (inTx !== undefined) txFirst ??= sql.slice(0, 60);
      else if (write) {
        holds.push(t1 - t0);
        note(sql.slice(0, 60), t1 - t0);
      }
      return result;
    };
  }
  return statement;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mw-lock-hold-'));
try {
  const secret = 'whsec_lockhold0123456789abcdef';
  const config = parseConfig({ MW_DATA_DIR: dir, STRIPE_WEBHOOK_SECRET: secret, LOG_LEVEL: 'silent', MW_DETECTOR_MODE: 'off' }, {}, dir);
  const app = await createApp(config, { logger: pino({ level: 'silent' }) });
  const factory = new EventFactory(secret);
  for (let i = 0; i < events; i++) {
    const signed = factory.signed(Math.floor(Date.now() / 1000));
    const res = await app.server.inject({ method: 'POST', url: '/webhooks/stripe', payload: signed.body, headers: { 'content-type': 'application/json', 'stripe-signature': signed.signature } });
    if (res.statusCode !== 200) throw new Error(`webhook ${res.statusCode}`);
  }
  await app.close();
  const file = (config.database as { file: string }).file;

  for (const batchSize of sizes) {
    const copy = path.join(dir, `copy-${batchSize}.db`);
    fs.copyFileSync(file, copy);
    const store = createSqliteStore({ file: copy, helperThreads: false });
    const logger = pino({ level: 'silent' });
    const settings = new DetectorSettings(store, systemClock, DETECTORS);
    const incidents = new IncidentService(store, createIdGenerator(systemClock), systemClock, { resolveAfterMs: 3_600_000, suppressForMs: 0 });
    const engine = new DetectorEngine(store, settings, incidents, systemClock, logger, { liveHorizonMs: 3_600_000, batchSize });
    holds.length = 0;
    labels.clear();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const processed = await engine.drain(Number.MAX_SAFE_INTEGER);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    await store.close();
    const sorted = [...holds].sort((a, b) => a - b);
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    const total = holds.reduce((a, b) => a + b, 0);
    console.log(
      JSON.stringify({
        batchSize,
        processed,
        cpuUsPerEvent: Math.round((cpu.user + cpu.system) / processed),
        wallUsPerEvent: Math.round((wall * 1000) / processed),
        writes: holds.length,
        lockHeldShare: +(total / wall).toFixed(2),
        holdMs: { p50: +q(0.5).toFixed(3), p90: +q(0.9).toFixed(3), p99: +q(0.99).toFixed(3), max: +(sorted.at(-1) ?? 0).toFixed(3) },
      }),
    );
    if (process.env.DETAIL) for (const [label, e] of [...labels].sort((a, b) => b[1].total - a[1].total)) console.log(`  ${e.n} × ${(e.total / e.n).toFixed(3)} ms (max ${e.max.toFixed(1)})  ${label}`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
