import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeStripe, type FakeStripe } from '../../src/fake-stripe/index.js';
import { ManualClock } from '../../src/shared/clock.js';
import { DIALECTS, dialectEnabled, freshDatabase, type FreshDatabase } from '../support/dialects.js';
import { chargeSucceeded } from '../support/stripe-events.js';
import { ADMIN_TOKEN, startTestApp, type TestApp } from '../support/test-app.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/meterwatch.js');
const RK = 'rk_test_cli000000000000001';

/** `meterwatch backfill` as a real process (the compiled CLI) against the fake Stripe on a real port. */
beforeAll(async () => {
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT });
}, 300_000);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`meterwatch backfill: ${dialect}`, () => {
    let fake: FakeStripe;
    let db: FreshDatabase;
    let noKeyTenant: string;

    // The CLI runs on the real clock, so the fake and the events do too.
    const withApp = async <T>(fn: (app: TestApp) => Promise<T>): Promise<T> => {
      const app = await startTestApp(db, { STRIPE_API_BASE: fake.url }, new ManualClock(Date.now()));
      try {
        return await fn(app);
      } finally {
        await app.close();
      }
    };
    const inject = (app: TestApp, method: 'POST' | 'PUT', url: string, payload: unknown) =>
      app.server.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json', 'x-tenant-id': 'default' }, payload: JSON.stringify(payload) });

    const cli = (args: string[], env: Record<string, string> = {}) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: db.dataDir,
          env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.databaseUrl, MW_DATA_DIR: db.dataDir, STRIPE_API_BASE: fake.url, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code, stdout, stderr }));
      });

    beforeAll(async () => {
      fake = await startFakeStripe({ port: 0 });
      db = await freshDatabase(dialect);
      const now = Math.floor(Date.now() / 1000);
      const account = fake.account(RK);
      for (let i = 0; i < 250; i++) {
        const created = now - 60 - i * 60;
        account.addEvent({ type: 'charge.succeeded', data: { object: (chargeSucceeded(created).data as { object: object }).object }, created });
      }
      noKeyTenant = await withApp(async (app) => {
        expect((await inject(app, 'PUT', '/v1/tenants/default/stripe', { apiKey: RK })).statusCode).toBe(200);
        return (await inject(app, 'POST', '/v1/tenants', { name: 'nokey' })).json().id as string;
      });
    });
    afterAll(async () => {
      await fake?.close();
      await db?.cleanup();
    });

    it('runs a backfill to the end with progress, exit 0', async () => {
      const run = await cli(['backfill', '--tenant', 'default', '--since', '30d']);
      expect(run.stderr).toMatch(/Backfill job_\w+ queued for tenant default/);
      // Not a terminal: plain progress lines, the last one complete.
      expect(run.stderr).toContain('[##############################] 100%  page 3  events 250 (stored 250, duplicates 0)');
      expect(run.stdout).toMatch(/^Backfill job_\w+ of tenant default: succeeded\n {2}250 events in 3 pages: 250 stored, 0 already there/);
      expect(run.code).toBe(0);
      expect(fake.requestLog.filter((r) => r.path === '/v1/events').every((r) => r.apiKey === RK)).toBe(true);
    }, 60_000);

    it('exits 1 with the error when the job fails', async () => {
      fake.setFaults({ seed: 5, rate: 1, kinds: ['503'], paths: /^\/v1\/events$/ });
      try {
        const run = await cli(['backfill', '--tenant', 'default', '--since', '2d', '--types', 'charge.succeeded,charge.refunded'], { MW_BACKFILL_MAX_ATTEMPTS: '1' });
        expect(run.stdout).toMatch(/: failed\n.*\n {2}error: gave up after 1 failed attempts: Stripe answered 503/);
        expect(run.code).toBe(1);
      } finally {
        fake.setFaults(null);
      }
    }, 60_000);

    it('resumes a queued job with --job; refuses a tenant without a key', async () => {
      const queued = await withApp(async (app) => (await inject(app, 'POST', '/v1/backfill', { since: '1d' })).json());
      expect(queued.status).toBe('queued');
      const run = await cli(['backfill', '--tenant', 'default', '--job', queued.id, '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ id: queued.id, status: 'succeeded', progress: { processed: 250, stored: 0, duplicates: 250 } });

      const refused = await cli(['backfill', '--tenant', noKeyTenant, '--since', '30d']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`error: Tenant "${noKeyTenant}" has no Stripe API key`);
    }, 60_000);
  });
}
