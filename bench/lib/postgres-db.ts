import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { onCleanup } from './cleanup.js';

export const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/test';

export type BenchPostgres = { ok: true; url: string; drop: () => Promise<void> } | { ok: false; reason: string };

/**
 * A throw-away database `mw_bench_<random>` on the local PostgreSQL (admin connection from
 * MW_BENCH_PG_ADMIN_URL, default postgres://postgres@127.0.0.1:5432/test), dropped at cleanup.
 */
export async function createBenchDatabase(): Promise<BenchPostgres> {
  const adminUrl = process.env.MW_BENCH_PG_ADMIN_URL ?? DEFAULT_ADMIN_URL;
  const name = `mw_bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
  try {
    await admin.connect();
  } catch (error) {
    return { ok: false, reason: `PostgreSQL unreachable at ${redact(adminUrl)}: ${(error as Error).message}` };
  }
  try {
    await admin.query(`create database ${name}`);
  } catch (error) {
    await admin.end().catch(() => {});
    return { ok: false, reason: `cannot create database ${name}: ${(error as Error).message}` };
  }
  await admin.end();

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = onCleanup(`drop database ${name}`, async () => {
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3_000 });
    await c.connect();
    try {
      await c.query(`drop database if exists ${name} with (force)`);
    } finally {
      await c.end();
    }
  });
  return { ok: true, url: url.toString(), drop };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}
