import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { startChildServer, type ChildServer } from './child-server.js';
import { SERVE_ENV, SERVE_NODE_FLAGS } from '../../src/ops/serve-node-flags.js';
import { distFile } from './paths.js';
import { makeTempDir } from './temp-dir.js';

export type BenchDatabase = { kind: 'sqlite' } | { kind: 'postgres'; url: string };

export interface MeterwatchServer {
  child: ChildServer;
  dataDir: string;
  secret: string;
  /** Rows in billing_events, read straight from the database (not through the server). */
  countStoredEvents(): Promise<number>;
  /** Per feed consumer (detectors…), how many stored events it has not read yet; empty if none. */
  feedBacklog(): Promise<Record<string, number>>;
  /** Stops the server and removes its data dir. */
  close(): Promise<void>;
}

/** Opt-in diagnostics; both slow the server down, so figures from such a run are not comparable. */
export interface ServerDiagnostics {
  /** `node --cpu-prof` into this directory (written when the server exits). */
  cpuProfileDir?: string;
  /** Per-SQL timing of every better-sqlite3 call, written as JSON to this directory at exit. */
  sqlTimingDir?: string;
}

/** Per-tenant token bucket lifted far above anything one machine can send (default is 2000/s). */
export const RATE_LIMIT_ENV = { MW_WEBHOOK_RATE_PER_SECOND: '1000000', MW_WEBHOOK_BURST: '1000000' } as const;

/**
 * `node dist/src/main.js serve --port 0 --data-dir <tmp>` as a child process, in a clean
 * environment (no inherited DATABASE_URL or .env can redirect it), with its own webhook secret.
 */
export async function startMeterwatch(
  name: string,
  database: BenchDatabase,
  options: ServerDiagnostics = {},
): Promise<MeterwatchServer> {
  const temp = makeTempDir(name);
  const secret = `whsec_bench${randomBytes(24).toString('hex')}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: temp.dir,
    NODE_ENV: 'production',
    STRIPE_WEBHOOK_SECRET: secret,
    MW_SECRET_KEY: randomBytes(32).toString('hex'),
    // info, not warn: the "meterwatch listening" line carries the bound address. Per-request logs are
    // off in the server, so info adds nothing on the hot path.
    LOG_LEVEL: 'info',
    ...SERVE_ENV,
    ...RATE_LIMIT_ENV,
  };
  if (database.kind === 'postgres') env.DATABASE_URL = database.url;
  // Knobs for experiments (e.g. MW_DETECTOR_BUDGET_MS=0 for intake alone), passed through as given.
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('MW_') && !k.startsWith('MW_BENCH_') && v !== undefined) env[k] = v;
  // Allocator experiments (glibc malloc arenas: each thread that allocates may get its own); a value
  // set here replaces SERVE_ENV's.
  for (const k of ['MALLOC_ARENA_MAX', 'GLIBC_TUNABLES']) if (process.env[k] !== undefined) env[k] = process.env[k]!;

  // Experiments with V8/Node flags (e.g. MW_BENCH_NODE_ARGS="--max-semi-space-size=8"): appended after the production flags.
  const nodeArgs: string[] = [...SERVE_NODE_FLAGS, ...(process.env.MW_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  if (options.cpuProfileDir) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`);
  if (options.sqlTimingDir && database.kind === 'sqlite') {
    nodeArgs.push('--import', pathToFileURL(distFile('bench/tools/sql-timing.js')).href);
    env.MW_BENCH_SQL_TIMING_FILE = path.join(options.sqlTimingDir, `${name}-${Date.now()}.sql-timing.json`);
  }

  let child: ChildServer;
  try {
    child = await startChildServer({
      name,
      script: distFile('src/main.js'),
      args: ['serve', '--port', '0', '--host', '127.0.0.1', '--data-dir', temp.dir],
      env,
      cwd: temp.dir,
      nodeArgs,
      readyAddress: (line) => (line.msg === 'meterwatch listening' && typeof line.address === 'string' ? line.address : undefined),
      startTimeoutMs: 30_000,
    });
  } catch (error) {
    await temp.remove();
    throw error;
  }

  const sqliteFile = path.join(temp.dir, 'meterwatch.db');
  return {
    child,
    dataDir: temp.dir,
    secret,
    countStoredEvents: () => (database.kind === 'sqlite' ? countSqlite(sqliteFile) : countPostgres(database.url)),
    feedBacklog: () => (database.kind === 'sqlite' ? backlogSqlite(sqliteFile) : backlogPostgres(database.url)),
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
    const row = db.prepare('select count(*) as n from billing_events').get() as { n: number };
    return Number(row.n);
  } finally {
    db.close();
  }
}

async function countPostgres(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>('select count(*)::text as n from billing_events');
    return Number(result.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

const BACKLOG_SQL =
  'select c.consumer as consumer, (select count(*) from billing_events b where b.seq > c.seq) as behind from feed_cursors c order by c.consumer';

async function backlogSqlite(file: string): Promise<Record<string, number>> {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare(BACKLOG_SQL).all() as { consumer: string; behind: number }[];
    return Object.fromEntries(rows.map((r) => [r.consumer, Number(r.behind)]));
  } catch {
    return {};
  } finally {
    db.close();
  }
}

/** On PostgreSQL the feed orders by (tx_id, seq); counting by seq alone is a close approximation. */
async function backlogPostgres(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ consumer: string; behind: string }>(BACKLOG_SQL);
    return Object.fromEntries(result.rows.map((r) => [r.consumer, Number(r.behind)]));
  } catch {
    return {};
  } finally {
    await client.end();
  }
}
