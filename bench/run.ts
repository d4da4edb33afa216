/**
 * `npm run bench`: throughput and latency of Meterwatch's webhook intake, as ratios against a bare
 * Fastify ceiling measured in the same run. A benchmark, not a test: floors are printed PASS/FAIL
 * and never change the exit code. The exit code is 1 only when a scenario could not run or its
 * storage check failed (that is a correctness problem, not a slow machine).
 *
 *   npm run bench                      everything (~2 minutes on 2 cores)
 *   npm run bench -- --quick           short runs, for checking the harness
 *   npm run bench -- --only=sqlite,duplicates   parts: ceiling, sqlite, duplicates, postgres, pricing, ingest
 *   npm run bench -- --cpu-prof        also profile the Meterwatch server (V8 .cpuprofile) and summarise
 *   npm run bench -- --sql-timing      also time every SQLite statement inside the server and summarise
 *   (both diagnostics slow the server: do not compare their figures with a plain run)
 *   npm run bench -- --json=out.json   also write the results as JSON
 *
 * See docs/BENCHMARKS.md.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanupAll } from './lib/cleanup.js';
import { summarizeCpuProfile } from './lib/cpu-profile.js';
import { createBenchDatabase } from './lib/postgres-db.js';
import type { ServerDiagnostics } from './lib/meterwatch-server.js';
import { machineInfo, renderReport } from './lib/report.js';
import { summarizeSqlTiming } from './lib/sql-timing-summary.js';
import { runCeiling } from './scenarios/ceiling.js';
import { runPricing, type PricingOutcome } from './scenarios/pricing.js';
import type { ScenarioResult, WebhookScenarioOptions } from './scenarios/types.js';
import { runWebhookScenarios } from './scenarios/webhook.js';
import { renderIngestReport, runIngestScenarios, type IngestBenchResult } from './scenarios/ingest.js';

const CONNECTIONS = 32;
const ALL = ['ceiling', 'sqlite', 'duplicates', 'postgres', 'pricing', 'ingest'] as const;
type Part = (typeof ALL)[number];

interface Args {
  quick: boolean;
  only: Set<Part>;
  cpuProf: boolean;
  sqlTiming: boolean;
  json: string | undefined;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, only: new Set(ALL), cpuProf: false, sqlTiming: false, json: undefined };
  for (const a of argv) {
    if (a === '--quick') args.quick = true;
    else if (a === '--cpu-prof') args.cpuProf = true;
    else if (a === '--sql-timing') args.sqlTiming = true;
    else if (a.startsWith('--json=')) args.json = path.resolve(a.slice('--json='.length));
    else if (a.startsWith('--only=')) {
      const wanted = a.slice('--only='.length).split(',').map((s) => s.trim()).filter(Boolean);
      const unknown = wanted.filter((w) => !(ALL as readonly string[]).includes(w));
      if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; choose from ${ALL.join(', ')}`);
      args.only = new Set(wanted as Part[]);
    } else throw new Error(`unknown argument ${a} (use --quick, --only=…, --cpu-prof, --sql-timing, --json=FILE)`);
  }
  return args;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const machine = machineInfo();
  const results: ScenarioResult[] = [];
  let pricing: PricingOutcome | undefined;
  let ingest: IngestBenchResult | undefined;
  let ingestFailure: string | undefined;
  const profileDir = args.cpuProf ? fs.mkdtempSync(path.join(os.tmpdir(), 'mw-bench-cpuprof-')) : undefined;
  const sqlTimingDir = args.sqlTiming ? fs.mkdtempSync(path.join(os.tmpdir(), 'mw-bench-sqltiming-')) : undefined;

  const webhook: WebhookScenarioOptions = args.quick
    ? { connections: CONNECTIONS, warmupAmount: 4_000, warmupMaxSeconds: 2, targetSeconds: 4, duplicateSeconds: 3 }
    : { connections: CONNECTIONS, warmupAmount: 20_000, warmupMaxSeconds: 4, targetSeconds: 15, duplicateSeconds: 10 };
  const diagnostics: ServerDiagnostics = {};
  if (profileDir) diagnostics.cpuProfileDir = profileDir;
  if (sqlTimingDir) diagnostics.sqlTimingDir = sqlTimingDir;
  webhook.diagnostics = diagnostics;
  if (profileDir || sqlTimingDir) log('  diagnostics enabled: the server runs slower than in a plain run; use these figures only to see where time goes.');

  log(`Meterwatch benchmark: ${machine.cores} cores, Node ${machine.node}, load average ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`);
  if (machine.loadAverageAtStart[0] !== undefined && machine.loadAverageAtStart[0] > 0.5) {
    log('  note: the machine is already busy; on 2 cores that depresses every figure below.');
  }

  const attempt = async (key: ScenarioResult['key'], title: string, run: () => Promise<ScenarioResult[]>) => {
    const t0 = performance.now();
    try {
      results.push(...(await run()));
    } catch (error) {
      results.push({ key, title, status: 'failed', message: (error as Error).stack ?? String(error), notes: [] });
      log(`  ${title}: FAILED: ${(error as Error).message}`);
    } finally {
      globalThis.gc?.();
      log(`  (${title}: ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  };

  try {
    if (args.only.has('ceiling')) {
      log('1/6 ceiling: bare Fastify…');
      await attempt('ceiling', 'ceiling: bare Fastify 5', async () => [
        await runCeiling({ connections: CONNECTIONS, warmupSeconds: args.quick ? 1 : 2, seconds: args.quick ? 3 : 10 }),
      ]);
    }
    if (args.only.has('sqlite') || args.only.has('duplicates')) {
      log('2/6 + 4/6 webhook on SQLite, then duplicate redelivery…');
      const options = { ...webhook, duplicateSeconds: args.only.has('duplicates') ? webhook.duplicateSeconds : 0 };
      await attempt('sqlite', 'webhook → SQLite', () => runWebhookScenarios({ kind: 'sqlite' }, options, log));
    }
    if (args.only.has('postgres')) {
      log('3/6 webhook on PostgreSQL…');
      await attempt('postgres', 'webhook → PostgreSQL', async () => {
        const db = await createBenchDatabase();
        if (!db.ok) {
          log(`  skipped: ${db.reason}`);
          return [{ key: 'postgres', title: 'webhook → PostgreSQL', status: 'skipped', message: db.reason, notes: [] }];
        }
        try {
          return await runWebhookScenarios({ kind: 'postgres', url: db.url }, { ...webhook, duplicateSeconds: 0 }, log);
        } finally {
          await db.drop();
        }
      });
    }
    if (args.only.has('pricing')) {
      log('5/6 pricing…');
      pricing = await runPricing();
      if (pricing.status !== 'ok') log(`  ${pricing.message.split('\n')[0]}`);
    }
    if (args.only.has('ingest')) {
      log('6/6 usage ingest (1- and 100-event requests, derived and random keys, SQLite and PostgreSQL)…');
      try {
        ingest = await runIngestScenarios({
          connections: CONNECTIONS,
          warmupSeconds: args.quick ? 1 : 3,
          seconds: args.quick ? 3 : 10,
          ceilingSeconds: args.quick ? 2 : 5,
          dialects: ['sqlite', 'postgres'],
          sizes: [1, 100],
          keyModes: ['derived', 'random'],
        }, log);
      } catch (error) {
        ingestFailure = (error as Error).stack ?? String(error);
        log(`  usage ingest: FAILED: ${(error as Error).message}`);
      }
    }
  } finally {
    await cleanupAll();
  }

  const totalSeconds = (performance.now() - started) / 1000;
  process.stdout.write(`${renderReport(machine, results, pricing, CONNECTIONS, totalSeconds)}\n`);
  if (ingest) process.stdout.write(`\nUsage ingest (POST /v1/events/ingest)\n${renderIngestReport(ingest)}\n`);
  if (ingestFailure) process.stdout.write(`\nUsage ingest: FAILED\n${ingestFailure}\n`);

  if (profileDir) {
    const files = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
    process.stdout.write(`\nCPU profiles of the Meterwatch server (${profileDir}; open in Chrome DevTools or speedscope):\n`);
    for (const f of files) {
      try {
        process.stdout.write(`${summarizeCpuProfile(path.join(profileDir, f))}\n`);
      } catch (error) {
        process.stdout.write(`  ${f}: unreadable (${(error as Error).message})\n`);
      }
    }
    if (files.length === 0) process.stdout.write('  none written (the server must exit cleanly to write its profile)\n');
  }

  if (sqlTimingDir) {
    const files = fs.readdirSync(sqlTimingDir).filter((f) => f.endsWith('.json'));
    process.stdout.write(`\nSQLite statements timed inside the server (${sqlTimingDir}):\n`);
    for (const f of files) process.stdout.write(`${summarizeSqlTiming(path.join(sqlTimingDir, f))}\n`);
    if (files.length === 0) process.stdout.write('  none written (SQLite scenarios only; the server must exit cleanly)\n');
  }

  if (args.json) {
    fs.writeFileSync(args.json, `${JSON.stringify({ machine, connections: CONNECTIONS, results, pricing, ingest, totalSeconds }, null, 2)}\n`);
    process.stdout.write(`\nresults written to ${args.json}\n`);
  }

  const broken = results.some((r) => r.status === 'failed' || r.verification?.ok === false) || pricing?.status === 'failed' || ingestFailure !== undefined || ingest?.runs.some((r) => !r.verification.ok) === true;
  return broken ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    await cleanupAll();
    process.stderr.write(`benchmark failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
