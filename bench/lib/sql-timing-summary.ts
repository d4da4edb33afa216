import fs from 'node:fs';
import path from 'node:path';

interface Row {
  sql: string;
  calls: number;
  totalMs: number;
  maxMs: number;
}

/** The statements that held the server's event loop longest (written by bench/tools/sql-timing.ts). */
export function summarizeSqlTiming(file: string, top = 12): string {
  const rows = JSON.parse(fs.readFileSync(file, 'utf8')) as Row[];
  const total = rows.reduce((a, r) => a + r.totalMs, 0);
  const lines = rows.slice(0, top).map(
    (r) =>
      `    ${((r.totalMs / total) * 100).toFixed(1).padStart(5)} %  ${(r.totalMs / 1000).toFixed(2).padStart(7)} s  ` +
      `${r.calls.toLocaleString('en-US').padStart(9)} calls  ${((r.totalMs / r.calls) * 1000).toFixed(0).padStart(6)} µs avg  ` +
      `${r.maxMs.toFixed(1).padStart(7)} ms max  ${r.sql.slice(0, 160)}`,
  );
  return [`  ${path.basename(file)}: ${(total / 1000).toFixed(1)} s inside better-sqlite3 in all`, ...lines].join('\n');
}
