/**
 * Diagnostic preload for the SQLite server (`npm run bench -- --sql-timing`): loaded into the
 * Meterwatch child with `node --import`, it wraps better-sqlite3's prepare/run/all/get to time every
 * statement on the event loop, and writes per-SQL totals to $MW_BENCH_SQL_TIMING_FILE at exit.
 * better-sqlite3 is synchronous, so this time is exactly time the event loop could not serve requests.
 * It adds overhead of its own: never use figures from a run that had it enabled.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';

interface Stat {
  calls: number;
  totalMs: number;
  maxMs: number;
}

type AnyFn = (...args: unknown[]) => unknown;

const out = process.env.MW_BENCH_SQL_TIMING_FILE;
if (out) {
  const require = createRequire(import.meta.url);
  const Database = require('better-sqlite3') as { prototype: { prepare: AnyFn } };
  const stats = new Map<string, Stat>();
  const record = (key: string, ms: number) => {
    const s = stats.get(key);
    if (s) {
      s.calls += 1;
      s.totalMs += ms;
      if (ms > s.maxMs) s.maxMs = ms;
    } else stats.set(key, { calls: 1, totalMs: ms, maxMs: ms });
  };
  const normalize = (sql: string) => sql.replace(/\s+/g, ' ').replace(/(\?, )+\?/g, '?, …').trim().slice(0, 400);

  const originalPrepare = Database.prototype.prepare;
  Database.prototype.prepare = function prepare(this: unknown, ...args: unknown[]) {
    const t0 = performance.now();
    const statement = originalPrepare.apply(this, args) as Record<string, AnyFn>;
    const key = normalize(String(args[0]));
    record(`(prepare) ${key}`, performance.now() - t0);
    for (const method of ['run', 'all', 'get'] as const) {
      const original = statement[method];
      if (typeof original !== 'function') continue;
      statement[method] = function timed(this: unknown, ...a: unknown[]) {
        const s0 = performance.now();
        try {
          return original.apply(this, a);
        } finally {
          record(key, performance.now() - s0);
        }
      };
    }
    return statement;
  };

  process.on('exit', () => {
    const rows = [...stats.entries()].map(([sql, s]) => ({ sql, ...s })).sort((a, b) => b.totalMs - a.totalMs);
    fs.writeFileSync(out, JSON.stringify(rows));
  });
}
