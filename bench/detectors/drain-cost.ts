/**
 * `npm run bench:drain-cost` — CPU cost of the detector engine per stored event, in process.
 *
 * A fresh store (SQLite by default, `--db=postgres` for a throw-away PostgreSQL database) is migrated
 * by `createApp`, then filled with the webhook benchmark's traffic (`bench/lib/signed-events.ts`: signed
 * charge.succeeded 60 % / charge.failed 20 % / invoice.paid 20 %, 1,000 customers, usd/eur/gbp, unique
 * ids), stored as intake stores them (`parseStripeEvent` + `insertBillingEvents` in group commits) at
 * `--rate` events per second of Stripe time. A warm-up set is drained first (JIT, and the incidents the
 * traffic keeps firing — charge_failure_rate, customer_failure_cluster — are then already open, the
 * engine's expensive steady state); then `--events` more are stored and the engine drains them to empty.
 * Reported: CPU µs per event (process.cpuUsage, user + system, whole process) and events/s of the
 * drain, with the load average, so runs on a busy machine can be told apart.
 *
 * Options: --events=<n> (20000), --warmup=<n> (5000), --batch=<n> (engine batch size; default 32, as
 * src/app.ts configures it), --rate=<events/s> (3000), --db=sqlite|postgres, --breakdown (time per detector,
 * per store operation and per incident write: instrumented, so slower; run it separately from the
 * clean measurement), --events-file=<jsonl> (reuse a saved event set; written with --save-events=<jsonl>),
 * --dump=<json> (incidents, notifications and flagged events, normalised, to compare two versions),
 * --keep (SQLite: keep the database, for EXPLAIN QUERY PLAN), --cache-mb=<n> (SQLite page cache of the
 * connection; default SQLite's 2 MB).
 * CPU profile: `node --cpu-prof --cpu-prof-dir=<dir> dist/bench/detectors/drain-cost.js`.
 * Needs Stripe's fixtures: MW_BENCH_FIXTURES=<path to fixtures3.json> when not at ../shared/fixtures.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { ManualClock } from '../../src/shared/clock.js';
import { parseStripeEvent } from '../../src/webhooks/parse-stripe-event.js';
import { DetectorEngine } from '../../src/detectors/detector-engine.js';
import { DetectorSettings } from '../../src/detectors/detector-settings.js';
import { DETECTORS } from '../../src/detectors/rules/index.js';
import type { Detector } from '../../src/detectors/detector.js';
import type { BillingEventInput } from '../../src/store/store.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { EventFactory } from '../lib/signed-events.js';
import { createBenchDatabase } from '../lib/postgres-db.js';
import { cleanupAll } from '../lib/cleanup.js';
import { makeTempDir } from '../lib/temp-dir.js';

const TENANT = 'default';
/** Stripe time of the first event: a fixed instant, so windows and buckets line up the same every run. */
const START_S = 1_790_000_000;
/** Group commit size of the intake under load (one transaction per group). */
const GROUP = 64;
/** The batch size the server gives its engine (src/app.ts). */
const APP_BATCH_SIZE = 32;

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}
const intOption = (name: string, fallback: number) => Math.max(0, Math.round(Number(option(name) ?? fallback)));

/** The detector whose evaluation is running, to attribute store calls to it in the breakdown. */
const running = new AsyncLocalStorage<string>();

interface Timing {
  calls: number;
  ms: number;
}

class Timings {
  readonly map = new Map<string, Timing>();
  add(name: string, ms: number): void {
    const t = this.map.get(name) ?? { calls: 0, ms: 0 };
    t.calls += 1;
    t.ms += ms;
    this.map.set(name, t);
  }
  table(title: string, events: number): string {
    const rows = [...this.map.entries()].sort((a, b) => b[1].ms - a[1].ms);
    const lines = rows.map(
      ([name, t]) =>
        `  ${name.padEnd(64)} ${String(t.calls).padStart(8)} calls ${(t.ms).toFixed(0).padStart(7)} ms ${((t.ms * 1000) / events).toFixed(1).padStart(8)} µs/event`,
    );
    return [`${title}`, ...lines].join('\n');
  }
}

/** Wraps every method of `target` (own prototype chain, not Object's) with a wall-clock timer. */
function instrument(target: object, prefix: string, timings: Timings): void {
  const seen = new Set<string>();
  for (let proto = Object.getPrototypeOf(target); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (name === 'constructor' || seen.has(name)) continue;
      const fn = (target as Record<string, unknown>)[name];
      if (typeof fn !== 'function') continue;
      seen.add(name);
      if (name === 'guard') continue; // the wrapper of every store call: it would count them twice
      (target as Record<string, unknown>)[name] = function (...args: unknown[]) {
        const t0 = performance.now();
        const result = (fn as (...a: unknown[]) => unknown).apply(target, args);
        // Query builders and other synchronous helpers are returned untouched.
        if (!(result instanceof Promise)) return result;
        const by = running.getStore();
        return result.finally(() => timings.add(`${by ? `${by} → ` : ''}${prefix}${name}`, performance.now() - t0));
      };
    }
  }
}

function timedDetectors(timings: Timings): Detector<any>[] {
  return DETECTORS.map((d) => {
    if (!d.evaluateEvents) return d;
    const evaluate = d.evaluateEvents.bind(d);
    return {
      ...d,
      async evaluateEvents(ctx, events) {
        const t0 = performance.now();
        try {
          return await running.run(d.name, () => evaluate(ctx, events));
        } finally {
          timings.add(d.name, performance.now() - t0);
        }
      },
    } satisfies Detector<any>;
  });
}

/** The webhook benchmark's bodies, at `rate` per second of Stripe time from `fromIndex`. */
function* generate(factory: EventFactory, fromIndex: number, count: number, rate: number): Generator<{ created: number; payload: string }> {
  for (let i = fromIndex; i < fromIndex + count; i++) {
    const created = START_S + Math.floor(i / rate);
    yield { created, payload: factory.render(created) };
  }
}

async function store(app: App, items: { created: number; payload: string }[]): Promise<void> {
  for (let i = 0; i < items.length; i += GROUP) {
    const group: BillingEventInput[] = items.slice(i, i + GROUP).map((it) => parseStripeEvent(it.payload, TENANT, 'webhook', it.created * 1000 + 40));
    await app.services.store.insertBillingEvents(group);
  }
}

async function drainAll(engine: DetectorEngine): Promise<number> {
  let total = 0;
  for (let guard = 0; guard < 10_000; guard++) {
    const n = await engine.drain(1_000);
    total += n;
    if (n === 0) return total;
  }
  throw new Error('the feed did not drain');
}

async function dump(app: App, file: string): Promise<void> {
  const { store } = app.services;
  const incidents = (await store.detectors.listIncidents(TENANT, { limit: 100_000 }))
    .map(({ id: _id, openedAt: _o, updatedAt: _u, activeKey: _a, ...rest }) => rest)
    .sort((a, b) => (a.detector + a.subjectType + a.subjectId < b.detector + b.subjectType + b.subjectId ? -1 : 1));
  const notifications = (await store.detectors.listNotifications(TENANT, { limit: 100_000 }))
    .map((n) => ({ detector: n.detector, kind: n.kind, severity: n.severity }))
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  const flagged = (await store.listBillingEvents(TENANT, { flagged: true, limit: 1_000_000 })).map((e) => `${e.eventId}:${e.anomalyScore}`).sort();
  fs.writeFileSync(file, JSON.stringify({ incidents, notifications, flagged }, null, 1));
}

async function main(): Promise<void> {
  const events = intOption('events', 20_000);
  const warmup = intOption('warmup', 5_000);
  const batchSize = intOption('batch', APP_BATCH_SIZE);
  const rate = Math.max(1, intOption('rate', 3_000));
  const kind = option('db') === 'postgres' ? 'postgres' : 'sqlite';
  const breakdown = process.argv.includes('--breakdown');
  const eventsFile = option('events-file');
  const saveEvents = option('save-events');
  const dumpFile = option('dump');
  const keep = process.argv.includes('--keep');

  const temp = makeTempDir('drain-cost');
  let databaseUrl = `sqlite:${path.join(temp.dir, 'mw.db')}`;
  if (kind === 'postgres') {
    const pg = await createBenchDatabase();
    if (!pg.ok) throw new Error(pg.reason);
    databaseUrl = pg.url;
  }
  const config = parseConfig({
    DATABASE_URL: databaseUrl,
    MW_DATA_DIR: temp.dir,
    STRIPE_WEBHOOK_SECRET: 'whsec_drain_cost_bench_0123456789abcdef',
    MW_ADMIN_TOKEN: 'drain-cost-bench-admin-token-0123456789',
    LOG_LEVEL: 'silent',
  });
  const clock = new ManualClock(START_S * 1000);
  const app = await createApp(config, { clock });
  try {
    const cacheMb = option('cache-mb');
    if (cacheMb !== undefined && kind === 'sqlite') await sql.raw(`pragma cache_size = -${Math.round(Number(cacheMb) * 1024)}`).execute((app.services.store as KyselyStore).db);
    const timings = new Timings();
    const settings = breakdown ? new DetectorSettings(app.services.store, clock, timedDetectors(timings)) : app.services.detectorSettings;
    const engine = new DetectorEngine(app.services.store, settings, app.services.incidents, clock, pino({ level: 'silent' }), {
      liveHorizonMs: config.detectors.liveHorizonMs,
      batchSize,
    });

    let all: { created: number; payload: string }[];
    if (eventsFile) {
      all = fs.readFileSync(eventsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { created: number; payload: string });
      if (all.length < warmup + events) throw new Error(`${eventsFile} holds ${all.length} events, fewer than ${warmup + events}`);
      all = all.slice(0, warmup + events);
    } else {
      all = [...generate(new EventFactory('whsec_drain_cost_bench_0123456789abcdef'), 0, warmup + events, rate)];
    }
    if (saveEvents) fs.writeFileSync(saveEvents, all.map((e) => JSON.stringify(e)).join('\n') + '\n');

    // Warm-up: stored and drained, not measured.
    const first = all.slice(0, warmup);
    if (first.length > 0) {
      await store(app, first);
      clock.set((first[first.length - 1]!.created + 1) * 1000);
      await drainAll(engine);
    }
    const measured = all.slice(warmup);
    await store(app, measured);
    clock.set((measured[measured.length - 1]!.created + 1) * 1000);
    if (breakdown) {
      timings.map.clear(); // the detectors' timers ran during the warm-up too
      instrument(app.services.store.detectors, 'detectors.', timings);
      instrument(app.services.store, 'store.', timings);
      instrument(app.services.incidents, 'incidents.', timings);
    }

    globalThis.gc?.();
    const load = os.loadavg();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const drained = await drainAll(engine);
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuUs = cpu.user + cpu.system;

    const open = await app.services.store.detectors.listIncidents(TENANT, { limit: 100_000 });
    const byDetector = new Map<string, number>();
    for (const i of open) byDetector.set(`${i.detector}/${i.severity}/${i.status}`, (byDetector.get(`${i.detector}/${i.severity}/${i.status}`) ?? 0) + 1);

    console.log(`drain-cost — ${kind}, batch ${batchSize}, ${warmup.toLocaleString('en-US')} warm-up + ${drained.toLocaleString('en-US')} measured events at ${rate}/s of Stripe time`);
    console.log(`  load average before the drain: ${load.map((l) => l.toFixed(2)).join(' ')} (${os.cpus().length} cores)`);
    console.log(`  CPU ${(cpuUs / 1000).toFixed(0)} ms (user ${(cpu.user / 1000).toFixed(0)}, system ${(cpu.system / 1000).toFixed(0)}), wall ${wallMs.toFixed(0)} ms`);
    console.log(`  ${(cpuUs / drained).toFixed(1)} µs CPU per event, ${Math.round((drained * 1000) / wallMs).toLocaleString('en-US')} events/s`);
    console.log(`  incidents: ${[...byDetector].sort().map(([k, n]) => `${k} ${n}`).join(', ')}`);
    if (breakdown) {
      console.log(timings.table('  breakdown (wall ms, nested: detector time includes its store reads; instrumented run)', drained));
    }
    if (dumpFile) await dump(app, dumpFile);
  } finally {
    await app.close();
    if (keep && kind === 'sqlite') {
      const kept = `${temp.dir}-kept`;
      fs.renameSync(temp.dir, kept);
      fs.mkdirSync(temp.dir);
      console.log(`  database kept in ${kept}`);
    }
    await cleanupAll();
  }
}

main().catch(async (error) => {
  console.error(error);
  await cleanupAll();
  process.exit(1);
});
