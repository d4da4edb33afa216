import { once } from 'node:events';
import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/detector-harness.js';
import { freshDatabase, type Dialect, type FreshDatabase } from '../support/dialects.js';
import { deliverWebhook, startTestApp, type TestApp } from '../support/test-app.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { ManualClock } from '../../src/shared/clock.js';
import { until } from '../support/until.js';
import { turnHolderOf } from '../../src/store/sqlite/write-turn.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { createStore } from '../../src/store/create-store.js';
import type { DetectorThread } from '../../src/detectors/detector-thread.js';
import type { AppOptions } from '../../src/app.js';

/**
 * The detectors in worker mode (MW_DETECTOR_MODE=worker, what `meterwatch serve` runs): a worker
 * thread with its own store connection and the system clock. Events are created near real "now"
 * for that reason. Nothing sleeps: every wait is on a message from the worker (ready, schedule,
 * drained), bounded by the drain timeout or the test timeout.
 */
const MIN = 60;
let seq = 0;
function failedCharge(created: number, customer: string): Record<string, unknown> {
  seq += 1;
  const charge = { ...fixture('charge'), id: `ch_wfail_${created}_${seq}`, amount: 2000, currency: 'usd', customer, status: 'failed', paid: false, captured: false, failure_code: 'card_declined', created };
  return stripeEvent('charge.failed', charge, { created });
}

function threadOf(app: TestApp): DetectorThread {
  const thread = app.services.detectorThread;
  if (!thread) throw new Error('the app runs no detector worker');
  return thread;
}

/**
 * Asks the worker to drain until its evaluate cursor covers every stored event. On PostgreSQL the
 * feed holds back rows behind its visibility horizon, so one drain may stop just short.
 */
async function drained(app: TestApp): Promise<void> {
  const rows = await app.services.store.listBillingEvents('default', { limit: 100_000 });
  const maxSeq = rows.reduce((m, r) => Math.max(m, r.seq), 0);
  for (let i = 0; i < 200; i++) {
    const position = await threadOf(app).drain(20_000);
    if (position.seq >= maxSeq) return;
  }
  throw new Error('the detector worker did not catch up with the stored events');
}

async function incidents(app: TestApp, detector: string) {
  const res = await app.server.inject({ method: 'GET', url: `/v1/anomalies?detector=${detector}`, headers: { authorization: `Bearer ${app.firstStart!.apiKey}` } });
  expect(res.statusCode).toBe(200);
  return res.json().data as { subject: { type: string; id: string }; historical: boolean; figures: Record<string, unknown> }[];
}

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`detector worker thread: ${dialect}`, () => {
    let db: FreshDatabase | undefined;
    let app: TestApp | undefined;
    afterEach(async () => {
      await app?.close();
      await db?.cleanup();
      app = undefined;
      db = undefined;
    });

    async function start(options: AppOptions['detectorThread'] = {}, env: Record<string, string> = {}): Promise<{ app: TestApp; thread: DetectorThread; firstSchedule: Promise<unknown[]> }> {
      db = await freshDatabase(dialect as Dialect);
      // The request thread's clock is frozen at real now (signatures are checked against it); the worker uses the system clock.
      app = await startTestApp(db, { MW_DETECTOR_MODE: 'worker', ...env }, new ManualClock(Date.now()), { detectorThread: { restartDelayMs: 10, ...options } });
      const thread = threadOf(app);
      const firstSchedule = once(thread, 'schedule');
      const ready = once(thread, 'ready');
      app.startBackground();
      await ready;
      return { app, thread, firstSchedule };
    }

    it('opens the incident for signed webhooks received over HTTP, and counts the events on /metrics', async () => {
      const { app } = await start();
      expect(app.services.config.detectors.mode).toBe('worker');
      const now = Math.floor(Date.now() / 1000);
      const events = [9, 7, 5, 3, 1].map((m) => failedCharge(now - m * MIN, 'cus_W'));
      for (const e of events) expect(await deliverWebhook(app, e)).toBe(200);
      await drained(app);

      const found = await incidents(app, 'customer_failure_cluster');
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ subject: { type: 'customer', id: 'cus_W' }, historical: false, figures: { failures: 5 } });
      // Opened by the worker: the request thread's own engine never ran.
      const metrics = (await app.server.inject('/metrics')).body;
      expect(Number(/^mw_detector_events_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(5);
      expect(metrics).toMatch(/^mw_detector_worker_restarts_total 0$/m);
      expect(metrics).toContain('mw_detector_errors_total');
    });

    it.runIf(process.platform === 'linux')('runs its thread at MW_DETECTOR_NICE, leaving the request thread where it was', async () => {
      const niceOf = (tid: string) => Number(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
      const before = new Map(fs.readdirSync('/proc/self/task').map((tid) => [tid, niceOf(tid)]));
      await start({}, { MW_DETECTOR_NICE: '7' });
      const reniced = fs.readdirSync('/proc/self/task').filter((tid) => !before.has(tid) && niceOf(tid) === 7);
      expect(reniced).toHaveLength(1);
      expect(niceOf(String(process.pid))).toBe(before.get(String(process.pid)));
    });

    it('is restarted after a crash, and carries on from the durable cursors', async () => {
      const { app, thread } = await start();
      const now = Math.floor(Date.now() / 1000);
      for (const m of [9, 8, 7]) expect(await deliverWebhook(app, failedCharge(now - m * MIN, 'cus_R'))).toBe(200);
      await drained(app);

      const restarted = once(thread, 'ready');
      const exited = once(thread, 'exit');
      await thread.kill();
      expect((await exited)[0]).not.toBe(0);
      await restarted;
      expect((await app.server.inject('/metrics')).body).toMatch(/^mw_detector_worker_restarts_total 1$/m);

      for (const m of [6, 5]) expect(await deliverWebhook(app, failedCharge(now - m * MIN, 'cus_R'))).toBe(200);
      await drained(app);
      expect(await incidents(app, 'customer_failure_cluster')).toEqual([expect.objectContaining({ subject: { type: 'customer', id: 'cus_R' }, figures: expect.objectContaining({ failures: 5 }) })]);
    });

    it.runIf(dialect === 'sqlite')('frees the write turn a worker killed mid-transaction still held', async () => {
      const { app, thread } = await start();
      const slots = new Int32Array((app.services.store as KyselyStore).writeTurn!, 0, 2);
      const holder = turnHolderOf(thread.threadId!);
      // As if the worker had been inside a transaction (or a RESTART checkpoint) when it died.
      expect(Atomics.compareExchange(slots, 0, 0, holder)).toBe(0);
      const exited = once(thread, 'exit');
      const restarted = once(thread, 'ready');
      await thread.kill();
      await exited;
      expect(Atomics.load(slots, 0)).toBe(0);
      await restarted;
      expect(await deliverWebhook(app, failedCharge(Math.floor(Date.now() / 1000), 'cus_T'))).toBe(200);
    });

    it('is ready only while the worker beats: a stale heartbeat makes the replica unready', async () => {
      let skew = 0;
      const { app } = await start({ now: () => Date.now() + skew, staleAfterMs: 30_000 });
      await app.services.loop.tick();
      await drained(app); // a full loop turn of the worker: it has beaten
      const ready = await app.server.inject('/health/ready');
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks.backgroundLoop.detail).toMatch(/detector worker: last heartbeat/);

      skew = 60_000; // as if the worker had not beaten for a minute
      app.clock.set(Date.now()); // and the request thread's loop is current
      await app.services.loop.tick();
      const stale = await app.server.inject('/health/ready');
      expect(stale.statusCode).toBe(503);
      expect(stale.json().checks.backgroundLoop).toMatchObject({ ok: false, detail: expect.stringMatching(/detector worker: last heartbeat/) });

      skew = 0;
      expect((await app.server.inject('/health/ready')).statusCode).toBe(200);
    });

    it.runIf(dialect === 'sqlite')('runs the WAL checkpoints: the database file takes the WAL\'s pages long before any commit would', async () => {
      const { app } = await start({ checkpointIntervalMs: 5 });
      const file = db!.sqliteFile!;
      const now = Math.floor(Date.now() / 1000);
      await drained(app);
      const before = fs.statSync(file).size;
      // A few hundred KB of WAL: far below the writers' own autocheckpoint (20,000 frames, ~80 MB),
      // so only the worker's PASSIVE checkpoints can copy it into the database file.
      for (let i = 0; i < 60; i++) expect(await deliverWebhook(app, failedCharge(now - i, `cus_ckpt_${i}`))).toBe(200);
      await drained(app);
      await until(() => fs.statSync(file).size > before);
    });

    it('releases the schedule lease on shutdown, after finishing its batch', async () => {
      const { app: started, firstSchedule } = await start();
      expect(await firstSchedule).toEqual([true]);
      const config = started.services.config;
      await started.close();
      app = undefined;

      // Another replica takes the schedule at once: the 5-minute lease was released, not left to expire.
      const other = createStore(config.database);
      try {
        expect(await other.detectors.tryAcquireLease('detectors.schedule', 'other-replica', Date.now(), 60_000)).toBe(true);
      } finally {
        await other.close();
      }
    });
  });
}
