import pino from 'pino';
import { Type } from '@sinclair/typebox';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, freshDatabase, type FreshDatabase } from '../support/dialects.js';
import { deliverWebhook, startTestApp, type TestApp } from '../support/test-app.js';
import { chargeSucceeded, fixture, stripeEvent } from '../support/stripe-events.js';
import { DetectorSettings } from '../../src/detectors/detector-settings.js';
import { IncidentService } from '../../src/detectors/incident-service.js';
import { DetectorEngine } from '../../src/detectors/detector-engine.js';
import { createIdGenerator } from '../../src/shared/ids.js';
import type { Detector, DetectorEvent, Severity } from '../../src/detectors/detector.js';
import { StoreUnavailableError } from '../../src/store/store-unavailable-error.js';

/**
 * The engine's guarantees, with a small test detector so the rules under test are the engine's:
 * "a customer with ≥ threshold failed charges in the 10 minutes before a failure" (severity critical
 * at 2× the threshold), resolving when the last 10 minutes before now are clean.
 */
const seen: string[] = [];
const probe: Detector<{ threshold: number }> = {
  name: 'probe',
  description: 'test detector',
  configSchema: Type.Object({ threshold: Type.Integer({ minimum: 1, maximum: 100 }) }, { additionalProperties: false }),
  defaults: { threshold: 3 },
  eventTypes: ['charge.failed'],
  async evaluateEvents(ctx, events) {
    const triggers = [];
    for (const e of events) {
      seen.push(e.eventId);
      if (!e.customer) continue;
      const window = await ctx.data.events({ types: ['charge.failed'], customer: e.customer, since: e.created - 600, until: e.created + 1, limit: 1000 });
      if (window.length < ctx.config.threshold) continue;
      const severity: Severity = window.length >= 2 * ctx.config.threshold ? 'critical' : 'warning';
      triggers.push({
        subjectType: 'customer' as const,
        subjectId: e.customer,
        severity,
        summary: `${window.length} failed charges in 10 minutes for ${e.customer}`,
        figures: { failures: window.length, threshold: ctx.config.threshold },
        eventIds: window.map((w: DetectorEvent) => w.eventId),
        at: e.created * 1000,
      });
    }
    return triggers;
  },
  async stillFiring(ctx, incident) {
    const since = Math.floor(ctx.now / 1000) - 600;
    const recent = await ctx.data.events({ types: ['charge.failed'], customer: incident.subjectId, since, limit: 1000 });
    return recent.length >= ctx.config.threshold;
  },
};

const failed = (created: number, customer: string, id: string) =>
  stripeEvent('charge.failed', { ...fixture('charge'), id: `ch_${id}`, status: 'failed', customer, amount: 500, currency: 'usd', created }, { created, id });

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`detector engine: ${dialect}`, () => {
    let db: FreshDatabase;
    let app: TestApp;
    const logger = pino({ level: 'silent' });
    const makeEngine = (resolveAfterMs = 30 * 60_000) => {
      const settings = new DetectorSettings(app.services.store, app.clock, [probe]);
      const incidents = new IncidentService(app.services.store, createIdGenerator(app.clock), app.clock, { resolveAfterMs, suppressForMs: 24 * 3_600_000 });
      return { settings, incidents, engine: new DetectorEngine(app.services.store, settings, incidents, app.clock, logger, { liveHorizonMs: 3_600_000, batchSize: 4 }) };
    };
    const nowS = () => Math.floor(app.clock.now() / 1000);
    const deliver = async (event: Record<string, unknown>) => expect(await deliverWebhook(app, event)).toBe(200);
    const incidents = () => app.services.store.detectors.listIncidents('default', { detector: 'probe', limit: 100 });
    const notifications = async () => (await app.services.store.detectors.listNotifications('default', { limit: 100 })).filter((n) => n.detector === 'probe');

    beforeAll(async () => {
      db = await freshDatabase(dialect);
      app = await startTestApp(db);
    });
    afterAll(async () => {
      await app?.close();
      await db?.cleanup();
    });
    afterEach(() => {
      seen.length = 0;
    });

    it('evaluates each stored event once, however often Stripe delivers it, and counts it once', async () => {
      const { engine } = makeEngine();
      const e = failed(nowS() - 60, 'cus_once', 'evt_once');
      for (let i = 0; i < 10; i++) await deliver(e);
      await engine.drain();
      await engine.drain();
      expect(seen.filter((id) => id === 'evt_once')).toHaveLength(1);
      const failures = await app.services.store.detectors.sumBuckets('default', 'charge.failed', (nowS() - 3600) * 1000, (nowS() + 60) * 1000);
      expect(failures.count).toBe(1);
    });

    it('opens one incident, adds evidence silently, escalates once, and flags the evidence', async () => {
      const { engine } = makeEngine();
      const t = nowS() - 300;
      // Out of order: the later failures arrive first.
      for (const [i, offset] of [3, 1, 2].entries()) await deliver(failed(t + offset, 'cus_burst', `evt_burst_${i}`));
      await engine.drain();
      let [incident] = await incidents();
      expect(incident).toMatchObject({ subjectId: 'cus_burst', status: 'open', severity: 'warning', historical: false });
      expect(incident!.evidence.sort()).toEqual(['evt_burst_0', 'evt_burst_1', 'evt_burst_2']);
      expect((await notifications()).map((n) => n.kind)).toEqual(['open']);

      await deliver(failed(t + 4, 'cus_burst', 'evt_burst_3'));
      await engine.drain();
      expect((await notifications()).map((n) => n.kind)).toEqual(['open']);
      for (let i = 4; i < 6; i++) await deliver(failed(t + 5 + i, 'cus_burst', `evt_burst_${i}`));
      await engine.drain();
      [incident] = await incidents();
      expect(incident!.severity).toBe('critical');
      expect(incident!.evidence).toHaveLength(6);
      expect((await notifications()).map((n) => `${n.kind}:${n.severity}`)).toEqual(['open:warning', 'escalate:critical']);
      // Re-running changes nothing.
      await engine.drain();
      await engine.runSchedule();
      expect(await notifications()).toHaveLength(2);
      const flagged = (await app.services.store.listBillingEvents('default', { customer: 'cus_burst', limit: 50 })).filter((e) => e.flagged);
      expect(flagged).toHaveLength(6);
      expect(flagged.every((e) => e.anomalyScore >= 70)).toBe(true);
    });

    it('auto-resolves after the quiet period and notifies the resolve once', async () => {
      const { engine } = makeEngine(30 * 60_000);
      app.clock.advance(11 * 60_000);
      await engine.runSchedule(); // clear now: the quiet period starts
      expect((await incidents())[0]!.status).toBe('open');
      app.clock.advance(31 * 60_000);
      await engine.runSchedule();
      const [incident] = await incidents();
      expect(incident).toMatchObject({ status: 'resolved', resolutionActor: 'system', activeKey: null });
      await engine.runSchedule();
      expect((await notifications()).map((n) => n.kind)).toEqual(['open', 'escalate', 'resolve']);
    });

    it('marks backfilled and stale history historical, and never notifies it', async () => {
      const { engine } = makeEngine();
      const before = (await notifications()).length;
      const t = nowS() - 10 * 86_400;
      for (let i = 0; i < 3; i++) await app.services.backfillIntake.store('default', JSON.stringify(failed(t + i, 'cus_history', `evt_hist_${i}`)));
      // Delivered live, but about a charge three hours old: past the one-hour live horizon.
      for (let i = 0; i < 3; i++) await deliver(failed(nowS() - 3 * 3600 + i, 'cus_stale', `evt_stale_${i}`));
      await engine.drain();
      const all = await incidents();
      expect(all.find((i) => i.subjectId === 'cus_history')).toMatchObject({ historical: true, status: 'open' });
      expect(all.find((i) => i.subjectId === 'cus_stale')).toMatchObject({ historical: true });
      expect((await notifications()).length).toBe(before);
    });

    it('finishes evaluation after a crash between counting and evaluating, without counting twice', async () => {
      const first = makeEngine();
      const t = nowS() - 30;
      for (let i = 0; i < 3; i++) await deliver(failed(t + i, 'cus_crash', `evt_crash_${i}`));
      // The engine applies a batch's triggers together.
      first.incidents.applyTriggers = async () => {
        throw new Error('simulated crash after the aggregation commit');
      };
      await expect(first.engine.drain()).rejects.toThrow('simulated crash');
      expect((await incidents()).find((i) => i.subjectId === 'cus_crash')).toBeUndefined();

      const restarted = makeEngine();
      await restarted.engine.drain();
      expect((await incidents()).filter((i) => i.subjectId === 'cus_crash')).toHaveLength(1);
      const window = await app.services.store.detectors.sumBuckets('default', 'charge.failed', (t - 60) * 1000, (t + 60) * 1000);
      expect(window.count).toBe(3);
    });

    it('counts each batch once when two engines (replicas) drain concurrently', async () => {
      app.clock.advance(3_600_000);
      const t = nowS() - 20;
      for (let i = 0; i < 12; i++) await deliver(failed(t, `cus_par_${i}`, `evt_par_${i}`));
      const a = makeEngine();
      const b = makeEngine();
      await Promise.all([a.engine.drain(), b.engine.drain()]);
      const counted = await app.services.store.detectors.sumBuckets('default', 'charge.failed', (t - 60) * 1000, (t + 60) * 1000);
      expect(counted.count).toBe(12);
    });

    it('honours a false positive: closed, and the subject suppressed for that detector', async () => {
      const { engine, incidents: service } = makeEngine();
      const t = nowS() - 10;
      for (let i = 0; i < 3; i++) await deliver(failed(t + i, 'cus_fp', `evt_fp_${i}`));
      await engine.drain();
      const open = (await incidents()).find((i) => i.subjectId === 'cus_fp' && i.activeKey !== null)!;
      await service.markFalsePositive('default', open.id, 'tester', 'test traffic');
      await deliver(failed(t + 5, 'cus_fp', 'evt_fp_9'));
      await engine.drain();
      const forCustomer = (await incidents()).filter((i) => i.subjectId === 'cus_fp');
      expect(forCustomer).toHaveLength(1);
      expect(forCustomer[0]).toMatchObject({ status: 'false_positive', resolutionActor: 'tester', resolutionReason: 'test traffic' });
    });

    it('retries a batch whose evaluation hit a database failure, and skips only a broken detector', async () => {
      app.clock.advance(3_600_000);
      const { engine, incidents: service } = makeEngine();
      const t = nowS() - 10;
      for (let i = 0; i < 3; i++) await deliver(failed(t + i, 'cus_retry', `evt_retry_${i}`));
      const original = service.applyTriggers.bind(service);
      service.applyTriggers = async () => {
        throw new StoreUnavailableError('applyTriggers', new Error('connection reset'));
      };
      await expect(engine.drain()).rejects.toMatchObject({ code: 'store_unavailable' });
      service.applyTriggers = original;
      await engine.drain();
      expect((await incidents()).filter((i) => i.subjectId === 'cus_retry')).toHaveLength(1);

      const errors: string[] = [];
      const broken: Detector<Record<string, never>> = { name: 'broken', description: '', configSchema: Type.Object({}), defaults: {}, eventTypes: ['charge.failed'], evaluateEvents: async () => { throw new Error('bug'); } };
      const settings = new DetectorSettings(app.services.store, app.clock, [broken, probe]);
      const withBroken = new DetectorEngine(app.services.store, settings, service, app.clock, logger, { liveHorizonMs: 3_600_000, batchSize: 4 }, (d) => errors.push(d));
      for (let i = 0; i < 3; i++) await deliver(failed(t + 20 + i, 'cus_broken', `evt_broken_${i}`));
      await withBroken.drain();
      expect(errors.length).toBeGreaterThan(0);
      expect(new Set(errors)).toEqual(new Set(['broken']));
      expect((await incidents()).filter((i) => i.subjectId === 'cus_broken')).toHaveLength(1);
    });

    it('keeps the newest refund state whatever the arrival order, and uncounts refunds that fail', async () => {
      app.clock.advance(3_600_000);
      const { engine } = makeEngine();
      const t = nowS() - 600;
      const refund = (status: string, id: string) => ({ ...fixture('refund'), id, charge: 'ch_refunded', amount: 400, currency: 'eur', status, created: t });
      const refundTotal = async () => (await app.services.store.detectors.sumBucketsByPrefix('default', 'refund:', (t - 60) * 1000, (t + 60) * 1000)).get('refund:eur') ?? { count: 0, amount: 0 };
      // The failure (newer) arrives before the creation (older).
      await deliver(stripeEvent('refund.updated', refund('failed', 're_order'), { created: t + 120, id: 'evt_re_upd' }));
      await engine.drain();
      await deliver(stripeEvent('refund.created', refund('pending', 're_order'), { created: t, id: 'evt_re_new' }));
      await engine.drain();
      expect((await app.services.store.detectors.refundsForCharge('default', 'ch_refunded')).map((r) => r.status)).toEqual(['failed']);
      expect(await refundTotal()).toEqual({ count: 0, amount: 0 });
      // In order: counted while pending, taken out when it fails.
      await deliver(stripeEvent('refund.created', refund('pending', 're_inorder'), { created: t, id: 'evt_re2_new' }));
      await engine.drain();
      expect(await refundTotal()).toEqual({ count: 1, amount: 400 });
      await deliver(stripeEvent('refund.updated', refund('failed', 're_inorder'), { created: t + 60, id: 'evt_re2_upd' }));
      await engine.drain();
      expect(await refundTotal()).toEqual({ count: 0, amount: 0 });
    });

    it('lets only one replica run each scheduled tick (a lease in the database)', async () => {
      const a = makeEngine();
      const b = makeEngine();
      const ran = await Promise.all([a.engine.runSchedule(), b.engine.runSchedule()]);
      expect(ran.filter(Boolean)).toHaveLength(1);
      const holder = ran[0] ? a : b;
      const other = ran[0] ? b : a;
      expect(await holder.engine.runSchedule()).toBe(true);
      expect(await other.engine.runSchedule()).toBe(false);
      app.clock.advance(6 * 60_000); // the holder stopped renewing: the lease expires
      expect(await other.engine.runSchedule()).toBe(true);
      // A replica shutting down hands the lease over at once.
      await other.engine.stop();
      expect(await holder.engine.runSchedule()).toBe(true);
    });

    it('sums money per currency and keeps subscription state by event time', async () => {
      app.clock.advance(3_600_000);
      const { engine } = makeEngine();
      const t = nowS() - 120;
      await deliver(chargeSucceeded(t, { amount: 1000, currency: 'usd' }));
      await deliver(chargeSucceeded(t, { amount: 50_000, currency: 'jpy' }));
      await deliver(chargeSucceeded(t, { amount: 250, currency: 'usd', captured: false }));
      const sub = { ...fixture('subscription'), id: 'sub_order', customer: 'cus_sub', status: 'active', currency: 'usd' };
      await deliver(stripeEvent('customer.subscription.deleted', { ...sub, status: 'canceled' }, { created: t + 60, id: 'evt_sub_del' }));
      await deliver(stripeEvent('customer.subscription.updated', sub, { created: t, id: 'evt_sub_upd' }));
      await engine.drain();
      const by = await app.services.store.detectors.sumBucketsByPrefix('default', 'charge.captured:', (t - 60) * 1000, (t + 60) * 1000);
      expect(Object.fromEntries(by)).toEqual({ 'charge.captured:usd': { count: 1, amount: 1000 }, 'charge.captured:jpy': { count: 1, amount: 50_000 } });
      // The older update arrived last but does not overwrite the newer cancellation.
      expect((await app.services.store.detectors.getSubscriptionFact('default', 'sub_order'))?.status).toBe('canceled');
    });
  });
}
