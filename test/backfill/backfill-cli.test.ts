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

    const cli = (args: string[], env: Record<string, string> = {}, onStderr?: (text: string, kill: (signal: NodeJS.Signals) => void) => void) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(process.execPath, [BIN, ...args], {
          cwd: db.dataDir,
          env: { PATH: process.env.PATH ?? '', DATABASE_URL: db.databaseUrl, MW_DATA_DIR: db.dataDir, STRIPE_API_BASE: fake.url, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          onStderr?.(stderr, (signal) => child.kill(signal));
        });
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

    it('Ctrl-C stops after the attempt under way and leaves the job resumable (exit 130)', async () => {
      // The first page hangs until the client's timeout: the signal lands while a request is in flight.
      fake.setFaults({ seed: 9, rate: 1, kinds: ['timeout'], holdMs: 5_000, paths: /^\/v1\/events$/ });
      let sent = false;
      const run = await cli(['backfill', '--tenant', 'default', '--since', '3h'], { MW_STRIPE_TIMEOUT_MS: '1000' }, (text, kill) => {
        if (!sent && text.includes('queued for tenant')) {
          sent = true;
          kill('SIGINT');
        }
      }).finally(() => fake.setFaults(null));
      expect(run.code).toBe(130);
      const jobId = /Interrupted: (job_\w+) keeps its cursor; resume with `meterwatch backfill --tenant default --job job_\w+`/.exec(run.stderr)?.[1];
      expect(jobId).toBeDefined();
      expect(run.stdout).toMatch(/: running\n.*\n {2}last error: attempt 1 of 8 failed, retrying at .*: Stripe could not be reached/);

      const resumed = await cli(['backfill', '--tenant', 'default', '--job', jobId!, '--json']);
      expect(resumed.code).toBe(0);
      const job = JSON.parse(resumed.stdout);
      expect(job).toMatchObject({ id: jobId, status: 'succeeded', progress: { stored: 0, retries: 1 } });
      // The last 3 hours of the 250 events, one a minute, all stored by the first run.
      expect(job.progress.duplicates).toBe(job.progress.processed);
      expect(job.progress.processed).toBeGreaterThanOrEqual(170);
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
