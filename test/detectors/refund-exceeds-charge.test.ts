import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, deliverAll, detectorViews, settle, withHarness } from '../support/detector-harness.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'refund_exceeds_charge';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const DAY = 86_400;

let seq = 0;
const uid = (p: string) => `${p}_${++seq}_${Math.random().toString(36).slice(2, 8)}`;

interface RefundSpec {
  id: string;
  amount: number;
  status?: string;
  created: number;
}

function chargeObject(id: string, created: number, amount: number, currency: string, refunds: RefundSpec[] = []): Record<string, unknown> {
  const refunded = refunds.reduce((s, r) => s + r.amount, 0);
  return {
    ...fixture('charge'),
    id,
    amount,
    amount_captured: amount,
    amount_refunded: refunded,
    captured: true,
    currency,
    customer: 'cus_R',
    status: 'succeeded',
    refunded: refunded >= amount,
    created,
    refunds: {
      object: 'list',
      has_more: false,
      url: `/v1/charges/${id}/refunds`,
      data: refunds.map((r) => refundObject(r.id, id, r.amount, currency, r.created, r.status)),
    },
  };
}

function refundObject(id: string, charge: string, amount: number, currency: string, created: number, status = 'succeeded'): Record<string, unknown> {
  return { ...fixture('refund'), id, charge, amount, currency, created, status };
}

const charge = (id: string, created: number, amount: number, currency = 'usd', type = 'charge.succeeded') =>
  stripeEvent(type, chargeObject(id, created, amount, currency), { created });

const refund = (chargeId: string, created: number, amount: number, opts: { currency?: string; status?: string; id?: string; type?: string } = {}) =>
  stripeEvent(opts.type ?? 'refund.created', refundObject(opts.id ?? uid('re'), chargeId, amount, opts.currency ?? 'usd', created, opts.status), { created });

const { mine, myNotifications } = detectorViews(DETECTOR);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`refund_exceeds_charge: ${dialect}`, () => {
    it('fires when 600 + 500 are refunded on a 1,000 charge, but not for two partial refunds of 400', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const ok = uid('ch');
        const over = uid('ch');
        const events = [
          charge(ok, t, 1000),
          refund(ok, t + MIN, 400),
          refund(ok, t + 2 * MIN, 400),
          charge(over, t, 1000),
          refund(over, t + MIN, 600),
          refund(over, t + 2 * MIN, 500),
        ];
        await deliverAll(h, events);
        await settle(h);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        const [i] = incidents;
        expect(i!.subject).toEqual({ type: 'charge', id: over });
        expect(i!.severity).toBe('warning');
        expect(i!.historical).toBe(false);
        expect(i!.figures).toMatchObject({ currency: 'usd', chargeAmount: 1000, refundedTotal: 1100, excess: 100, refundCount: 2 });
        expect(i!.summary).toContain('11.00 USD');
        expect(i!.summary).toContain('10.00 USD');
        expect(new Date(i!.firstTriggeredAt).getTime()).toBe((t + 2 * MIN) * 1000);
        for (const e of events.slice(3)) expect(i!.evidence.eventIds).toContain(e.id);
        expect(await myNotifications(h)).toEqual([expect.objectContaining({ kind: 'open', severity: 'warning' })]);
        const flagged = (await h.flagged()).map((f) => f.eventId);
        expect(flagged).toContain(events[5]!.id);
        expect(flagged).not.toContain(events[1]!.id);
      });
    });

    it('stays quiet at exactly the charge amount and fires one minor unit above it', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const c = uid('ch');
        await deliverAll(h, [charge(c, t, 1000), refund(c, t + MIN, 600), refund(c, t + 2 * MIN, 400)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
        await deliverAll(h, [refund(c, t + 3 * MIN, 1)]);
        await settle(h);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ refundedTotal: 1001, excess: 1, refundCount: 3 });
      });
    });

    it('sums refund objects, never the cumulative amount_refunded of charge.refunded events', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const c = uid('ch');
        const r1 = { id: uid('re'), amount: 400, created: t + MIN };
        const r2 = { id: uid('re'), amount: 400, created: t + 2 * MIN };
        // amount_refunded goes 400 → 800; naively adding it per event would give 1,200 > 1,000.
        const refunded1 = stripeEvent('charge.refunded', chargeObject(c, t, 1000, 'usd', [r1]), { created: t + MIN });
        const refunded2 = stripeEvent('charge.refunded', chargeObject(c, t, 1000, 'usd', [r1, r2]), { created: t + 2 * MIN });
        await deliverAll(h, [
          charge(c, t, 1000),
          refunded1,
          refund(c, r1.created, r1.amount, { id: r1.id }),
          refunded2,
          refund(c, r2.created, r2.amount, { id: r2.id }),
          refund(c, r2.created + 5, r2.amount, { id: r2.id, type: 'charge.refund.updated' }),
        ]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('does not count failed or canceled refunds; pending ones count unless configured off', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const failed = uid('ch');
        const canceled = uid('ch');
        const turnedFailed = uid('ch');
        const reId = uid('re');
        await deliverAll(h, [
          charge(failed, t, 1000),
          refund(failed, t + MIN, 600),
          refund(failed, t + 2 * MIN, 500, { status: 'failed', type: 'refund.failed' }),
          charge(canceled, t, 1000),
          refund(canceled, t + MIN, 600),
          refund(canceled, t + 2 * MIN, 500, { status: 'canceled' }),
          charge(turnedFailed, t, 1000),
          refund(turnedFailed, t + MIN, 600),
          refund(turnedFailed, t + 2 * MIN, 500, { status: 'pending', id: reId }),
          refund(turnedFailed, t + 2 * MIN, 500, { status: 'failed', id: reId, type: 'refund.updated' }),
        ]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);

        expect(await h.configure(DETECTOR, { countPending: false })).toBe(200);
        const pendingOff = uid('ch');
        await deliverAll(h, [charge(pendingOff, t, 1000), refund(pendingOff, t + MIN, 600), refund(pendingOff, t + 2 * MIN, 500, { status: 'pending' })]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0);

        expect(await h.configure(DETECTOR, { countPending: true })).toBe(200);
        const pendingOn = uid('ch');
        await deliverAll(h, [charge(pendingOn, t, 1000), refund(pendingOn, t + MIN, 600), refund(pendingOn, t + 2 * MIN, 500, { status: 'pending' })]);
        await settle(h);
        expect((await mine(h)).map((i) => i.subject.id)).toEqual([pendingOn]);
      });
    });

    it('counts a refund delivered 10 times once', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const c = uid('ch');
        const first = refund(c, t + MIN, 600);
        await deliverAll(h, [charge(c, t, 1000)]);
        for (let i = 0; i < 10; i++) expect(await h.deliver(first)).toBe(200);
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // 600, not 6,000

        const second = refund(c, t + 2 * MIN, 500);
        for (let i = 0; i < 10; i++) expect(await h.deliver(second)).toBe(200);
        await settle(h);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ refundedTotal: 1100, refundCount: 2 });
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('waits for a charge that arrives after its refunds (out of order), then fires', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const c = uid('ch');
        await deliverAll(h, [refund(c, t + 2 * MIN, 500)]);
        await settle(h);
        await deliverAll(h, [refund(c, t + MIN, 600)]);
        await settle(h);
        expect(await mine(h)).toHaveLength(0); // unknown charge: no decision

        await deliverAll(h, [charge(c, t, 1000)]);
        await settle(h);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.subject.id).toBe(c);
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({ refundedTotal: 1100 });
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('never mixes currencies: a 50,000 JPY refund is not added to a USD charge', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const usd = uid('ch');
        const jpy = uid('ch');
        await deliverAll(h, [
          charge(usd, t, 1000, 'usd'),
          refund(usd, t + MIN, 900),
          refund(usd, t + 2 * MIN, 50_000, { currency: 'jpy' }),
          charge(jpy, t, 50_000, 'jpy'),
          refund(jpy, t + MIN, 30_000, { currency: 'jpy' }),
          refund(jpy, t + 2 * MIN, 30_000, { currency: 'jpy' }),
        ]);
        await settle(h);
        const incidents = await mine(h);
        expect(incidents.map((i) => i.subject.id)).toEqual([jpy]);
        expect(incidents[0]!.figures).toMatchObject({ currency: 'jpy', chargeAmount: 50_000, refundedTotal: 60_000 });
        expect(incidents[0]!.summary).toContain('60000 JPY');
      });
    });

    it('escalates to critical at twice the charge amount', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const c = uid('ch');
        await deliverAll(h, [charge(c, t, 1000), refund(c, t + MIN, 1000), refund(c, t + 2 * MIN, 100)]);
        await settle(h);
        await deliverAll(h, [refund(c, t + 3 * MIN, 900)]);
        await settle(h);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.severity).toBe('critical');
        expect((await myNotifications(h)).map((n) => [n.kind, n.severity])).toEqual([
          ['open', 'warning'],
          ['escalate', 'critical'],
        ]);
      });
    });

    it('opens backfilled history as historical, without notifying', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 10 * DAY;
        const c = uid('ch');
        for (const e of [charge(c, t, 1000), refund(c, t + MIN, 600), refund(c, t + 2 * MIN, 500)]) await h.backfill(e);
        await settle(h);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('does not re-open a resolved finding on an unrelated later event of the charge', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const c = uid('ch');
        await deliverAll(h, [charge(c, t, 1000), refund(c, t + MIN, 600), refund(c, t + 2 * MIN, 500)]);
        await settle(h);
        const [incident] = await mine(h);
        const res = await h.app.server.inject({
          method: 'POST',
          url: `/v1/anomalies/${incident!.id}/resolve`,
          headers: { authorization: `Bearer ${h.apiKey}` },
          payload: { reason: 'refund reversed by hand' },
        });
        expect(res.statusCode).toBe(200);
        await deliverAll(h, [charge(c, t + 5 * MIN, 1000, 'usd', 'charge.updated')]);
        await settle(h);
        await h.tick();
        const after = await mine(h);
        expect(after).toHaveLength(1);
        expect(after[0]!.status).toBe('resolved');
      });
    });

    it('survives a restart mid-stream; re-running the engine changes nothing', async () => {
      await withHarness(dialect, async (h) => {
        const t = T0S - 30 * MIN;
        const c = uid('ch');
        const events = [charge(c, t, 1000), refund(c, t + MIN, 600), refund(c, t + 2 * MIN, 500)];
        await deliverAll(h, events.slice(0, 2));
        await settle(h);
        await h.restart(new ManualClock(T0));
        await deliverAll(h, [events[1]!, events[2]!]); // events[1]: a redelivery from before the restart
        await settle(h);
        await settle(h);
        await h.tick();
        const list = await mine(h);
        expect(list).toHaveLength(1);
        expect(list[0]!.figures).toMatchObject({ refundedTotal: 1100, refundCount: 2 });
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
