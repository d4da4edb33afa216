import pg from 'pg';
import { randomBytes } from 'node:crypto';

/**
 * PostgreSQL for the conformance suites: TEST_DATABASE_URL or the local server, with a fresh database
 * per suite. In CI an unreachable server fails the run; on a laptop without PostgreSQL the suites
 * are skipped with a loud message.
 */
export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let reachable: boolean | undefined;

export async function postgresAvailable(): Promise<boolean> {
  if (reachable !== undefined) return reachable;
  const client = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    reachable = true;
  } catch (error) {
    if (process.env.CI === 'true' || process.env.CI === '1') {
      throw new Error(`PostgreSQL is required in CI but unreachable at ${redact(ADMIN_URL)}: ${(error as Error).message}`);
    }
    console.warn(`\n!!! PostgreSQL unreachable at ${redact(ADMIN_URL)}: the PostgreSQL half of the store suites is SKIPPED !!!\n`);
    reachable = false;
  } finally {
    await client.end().catch(() => {});
  }
  return reachable;
}

export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `mw_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
}
