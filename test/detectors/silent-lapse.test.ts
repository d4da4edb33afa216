import { describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, type DetectorHarness, deliverAll, detectorViews, tickAt, withHarness } from '../support/detector-harness.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import { T0 } from '../support/test-app.js';
import { ManualClock } from '../../src/shared/clock.js';

const DETECTOR = 'silent_lapse';
const T0S = Math.floor(T0 / 1000);
const MIN = 60;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** A period that ended 3 days and 10 minutes before T0: due at T0 − 10 min. */
const END = T0S - 3 * DAY - 10 * MIN;
const START = END - 30 * DAY;

type Json = Record<string, unknown>;

interface SubOptions {
  status?: string;
  start?: number;
  end?: number;
  cancelAtPeriodEnd?: boolean;
  unitAmount?: number;
  /** Pre-2025-03-31 shape: the period on the subscription, not on its items. */
  legacy?: boolean;
}
function subscription(id: string, o: SubOptions = {}): Json {
  const base = fixture('subscription');
  const baseItem = ((base.items as Json).data as Json[])[0]!;
  const start = o.start ?? START;
  const end = o.end ?? END;
  const item: Json = {
    ...baseItem,
    id: `si_${id}`,
    subscription: id,
    quantity: 1,
    price: { ...(baseItem.price as Json), unit_amount: o.unitAmount ?? 2000, currency: 'usd' },
    current_period_start: start,
    current_period_end: end,
  };
  if (o.legacy) {
    delete item.current_period_start;
    delete item.current_period_end;
  }
  return {
    ...base,
    id,
    customer: `cus_${id}`,
    currency: 'usd',
    status: o.status ?? 'active',
    cancel_at_period_end: o.cancelAtPeriodEnd ?? false,
    items: { ...(base.items as Json), data: [item] },
    ...(o.legacy ? { current_period_start: start, current_period_end: end } : {}),
  };
}
const subEvent = (type: string, created: number, id: string, o: SubOptions = {}) => stripeEvent(type, subscription(id, o), { created });

interface InvoiceOptions {
  status?: 'draft' | 'open' | 'paid';
  /** Stripe's look-back invoice period. */
  periodStart: number;
  periodEnd: number;
  /** The service period of the line. */
  lineStart: number;
  lineEnd: number;
  paidAt?: number | null;
  legacy?: boolean;
}
function invoice(id: string, subscriptionId: string, o: InvoiceOptions): Json {
  const base = fixture('invoice');
  const baseLine = ((base.lines as Json).data as Json[])[0]!;
  const paid = (o.status ?? 'paid') === 'paid';
  return {
    ...base,
    id,
    customer: `cus_${subscriptionId}`,
    status: o.status ?? 'paid',
    billing_reason: 'subscription_cycle',
    amount_due: 2000,
    amount_paid: paid ? 2000 : 0,
    amount_remaining: paid ? 0 : 2000,
    total: 2000,
    period_start: o.periodStart,
    period_end: o.periodEnd,
    lines: { ...(base.lines as Json), data: [{ ...baseLine, invoice: id, amount: 2000, period: { start: o.lineStart, end: o.lineEnd } }] },
    status_transitions: { finalized_at: o.periodEnd, marked_uncollectible_at: null, paid_at: paid ? (o.paidAt ?? o.periodEnd) : null, voided_at: null },
    parent: o.legacy ? null : { type: 'subscription_details', quote_details: null, subscription_details: { metadata: null, subscription: subscriptionId } },
    subscription: o.legacy ? subscriptionId : null,
  };
}
/** The renewal invoice of the period after END, paid an hour after it began. */
const renewal = (id: string, sub: string, extra: Partial<InvoiceOptions> = {}) =>
  invoice(id, sub, { periodStart: START, periodEnd: END, lineStart: END, lineEnd: END + 30 * DAY, paidAt: END + HOUR, ...extra });
/** The invoice of the period that ended at END, paid when it began. */
const previous = (id: string, sub: string) => invoice(id, sub, { periodStart: START - 30 * DAY, periodEnd: START, lineStart: START, lineEnd: END, paidAt: START + 60 });

const { mine, myNotifications } = detectorViews(DETECTOR);
const subjects = async (h: DetectorHarness) => (await mine(h)).map((i) => i.subject.id).sort();

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`silent_lapse: ${dialect}`, () => {
    it('fires once for an active subscription never seen paying; no hourly repeats; critical after 2 × the grace', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [subEvent('customer.subscription.created', START, 'sub_A')]);
        await tickAt(h, T0);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.subject).toEqual({ type: 'subscription', id: 'sub_A' });
        expect(incidents[0]!.severity).toBe('warning');
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({ subscription: 'sub_A', customer: 'cus_sub_A', status: 'active', periodEnd: new Date(END * 1000).toISOString(), daysSincePeriodEnd: 3 });
        for (let i = 1; i <= 3; i++) await tickAt(h, T0 + i * HOUR * 1000);
        expect(await mine(h)).toHaveLength(1);
        expect(await myNotifications(h)).toHaveLength(1);
        await tickAt(h, (END + 6 * DAY + 5 * MIN) * 1000);
        const later = await mine(h);
        expect(later).toHaveLength(1);
        expect(later[0]!.severity).toBe('critical');
        expect((await myNotifications(h)).map((n) => [n.kind, n.severity])).toEqual([
          ['open', 'warning'],
          ['escalate', 'critical'],
        ]);
      });
    });

    it('an invoice for the period that ended (created, then paid: one invoice) does not pay for the next one', async () => {
      await withHarness(dialect, async (h) => {
        const inv = previous('in_prev', 'sub_A');
        await deliverAll(h, [
          subEvent('customer.subscription.created', START, 'sub_A'),
          stripeEvent('invoice.created', { ...inv, status: 'draft', amount_paid: 0, status_transitions: { paid_at: null } }, { created: START }),
          stripeEvent('invoice.paid', inv, { created: START + 60 }),
          stripeEvent('invoice.payment_succeeded', inv, { created: START + 60 }),
        ]);
        await tickAt(h, T0);
        expect(await subjects(h)).toEqual(['sub_A']);
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('does not fire for a renewed and paid subscription (current and legacy API shapes), fires for past_due and legacy unpaid ones', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [
          subEvent('customer.subscription.created', START, 'sub_paid'),
          stripeEvent('invoice.paid', renewal('in_paid', 'sub_paid'), { created: END + HOUR }),
          subEvent('customer.subscription.created', START, 'sub_legacy_paid', { legacy: true }),
          stripeEvent('invoice.payment_succeeded', renewal('in_legacy', 'sub_legacy_paid', { legacy: true }), { created: END + HOUR }),
          subEvent('customer.subscription.created', START, 'sub_legacy_unpaid', { legacy: true }),
          subEvent('customer.subscription.updated', START + DAY, 'sub_past_due', { status: 'past_due' }),
          // Paid late, days after the period ended, but paid after it: not a lapse.
          subEvent('customer.subscription.created', START, 'sub_paid_late'),
          stripeEvent('invoice.paid', invoice('in_late', 'sub_paid_late', { periodStart: START - 30 * DAY, periodEnd: START, lineStart: START, lineEnd: END, paidAt: END + 2 * DAY }), {
            created: END + 2 * DAY,
          }),
        ]);
        await tickAt(h, T0);
        expect(await subjects(h)).toEqual(['sub_legacy_unpaid', 'sub_past_due']);
      });
    });

    it('fires for a renewal that rolled the period but was never paid (past_due), once, across later renewals', async () => {
      await withHarness(dialect, async (h) => {
        // Renewed at R (period R → R + 30 d); the invoice was sent and finalized, never paid; Stripe
        // marked the subscription past_due at its due date, 3 days later.
        const R = T0S - 3 * DAY - 10 * MIN;
        const rolled = { start: R, end: R + 30 * DAY };
        const inv = invoice('in_R', 'sub_U', { status: 'open', periodStart: START, periodEnd: R, lineStart: R, lineEnd: R + 30 * DAY, paidAt: null });
        h.app.clock.set((R - 30 * DAY) * 1000);
        await deliverAll(h, [subEvent('customer.subscription.created', R - 30 * DAY, 'sub_U', { start: R - 30 * DAY, end: R })]);
        h.app.clock.set(R * 1000);
        await deliverAll(h, [
          subEvent('customer.subscription.updated', R, 'sub_U', rolled),
          stripeEvent('invoice.created', { ...inv, status: 'draft' }, { created: R }),
          stripeEvent('invoice.finalized', inv, { created: R + HOUR }),
        ]);
        await tickAt(h, (R + 2 * DAY) * 1000);
        expect(await mine(h)).toHaveLength(0); // active, its period has not ended: nothing yet
        h.app.clock.set((R + 3 * DAY) * 1000);
        await deliverAll(h, [subEvent('customer.subscription.updated', R + 3 * DAY, 'sub_U', { ...rolled, status: 'past_due' })]);
        await tickAt(h, T0);
        let incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.subject).toEqual({ type: 'subscription', id: 'sub_U' });
        expect(incidents[0]!.historical).toBe(false);
        expect(incidents[0]!.figures).toMatchObject({ status: 'past_due', lapse: 'renewal unpaid', dueAt: new Date(R * 1000).toISOString() });

        // Critical once the renewal is 2 × the grace overdue.
        await tickAt(h, (R + 6 * DAY + HOUR) * 1000);
        expect((await mine(h))[0]!.severity).toBe('critical');

        // A month on, Stripe rolls the period again (still past_due, still unpaid): the same incident.
        const R2 = R + 30 * DAY;
        h.app.clock.set(R2 * 1000);
        await deliverAll(h, [subEvent('customer.subscription.updated', R2, 'sub_U', { start: R2, end: R2 + 30 * DAY, status: 'past_due' })]);
        for (const t of [R2 + HOUR, R2 + 2 * DAY, R2 + 4 * DAY]) await tickAt(h, t * 1000);
        incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.status).toBe('open');
        expect((await myNotifications(h)).map((n) => n.kind)).toEqual(['open', 'escalate']);

        // Paid at last: resolved.
        h.app.clock.set((R2 + 4 * DAY + HOUR) * 1000);
        const paid = invoice('in_R2', 'sub_U', { periodStart: R, periodEnd: R2, lineStart: R2, lineEnd: R2 + 30 * DAY, paidAt: R2 + 4 * DAY + HOUR });
        await deliverAll(h, [stripeEvent('invoice.paid', paid, { created: R2 + 4 * DAY + HOUR })]);
        await tickAt(h, (R2 + 4 * DAY + 2 * HOUR) * 1000);
        await tickAt(h, (R2 + 4 * DAY + 4 * HOUR) * 1000);
        expect((await mine(h))[0]!.status).toBe('resolved');
      });
    });

    it('dunning is not silent: past_due while Stripe retries stays quiet, and fires once the retries stop without payment', async () => {
      await withHarness(dialect, async (h) => {
        const R = T0S - 5 * DAY;
        const rolled = { start: R, end: R + 30 * DAY };
        const inv = invoice('in_D', 'sub_D', { status: 'open', periodStart: R - 30 * DAY, periodEnd: R, lineStart: R, lineEnd: R + 30 * DAY, paidAt: null });
        h.app.clock.set(R * 1000);
        await deliverAll(h, [subEvent('customer.subscription.created', R - 30 * DAY, 'sub_D', { start: R - 30 * DAY, end: R }), subEvent('customer.subscription.updated', R, 'sub_D', rolled)]);
        // Failed attempts at R + 1 h (→ past_due), R + 1 d and R + 3 d: Stripe's smart retries.
        for (const t of [R + HOUR, R + DAY, R + 3 * DAY]) {
          h.app.clock.set(t * 1000);
          await deliverAll(h, [stripeEvent('invoice.payment_failed', { ...inv, attempt_count: 1 }, { created: t })]);
          if (t === R + HOUR) await deliverAll(h, [subEvent('customer.subscription.updated', t, 'sub_D', { ...rolled, status: 'past_due' })]);
        }
        await tickAt(h, (R + 4 * DAY) * 1000);
        await tickAt(h, T0);
        expect(await mine(h)).toHaveLength(0); // the last attempt is 2 days old
        await tickAt(h, (R + 6 * DAY + MIN) * 1000);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.figures).toMatchObject({ lapse: 'renewal unpaid', lastFailedAttempt: new Date((R + 3 * DAY) * 1000).toISOString() });
        expect(incidents[0]!.historical).toBe(false);
      });
      await withHarness(dialect, async (h) => {
        // The usual end of dunning: the retries fail and Stripe cancels — nothing to report.
        const R = T0S - 5 * DAY;
        h.app.clock.set(R * 1000);
        await deliverAll(h, [subEvent('customer.subscription.updated', R, 'sub_C', { start: R, end: R + 30 * DAY, status: 'past_due' })]);
        h.app.clock.set((R + 5 * DAY) * 1000);
        await deliverAll(h, [subEvent('customer.subscription.deleted', R + 5 * DAY, 'sub_C', { start: R, end: R + 30 * DAY, status: 'canceled' })]);
        await tickAt(h, (R + 9 * DAY) * 1000);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('ignores trialing, canceled, incomplete, cancel-at-period-end and free subscriptions', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [
          subEvent('customer.subscription.created', START, 'sub_trial', { status: 'trialing' }),
          subEvent('customer.subscription.created', START, 'sub_incomplete', { status: 'incomplete' }),
          subEvent('customer.subscription.created', START, 'sub_gone'),
          subEvent('customer.subscription.deleted', END, 'sub_gone', { status: 'canceled' }),
          subEvent('customer.subscription.updated', START + DAY, 'sub_ending', { cancelAtPeriodEnd: true }),
          subEvent('customer.subscription.created', START, 'sub_free', { unitAmount: 0 }),
        ]);
        await tickAt(h, T0);
        expect(await mine(h)).toHaveLength(0);
      });
    });

    it('waits more than 3 days after the period end', async () => {
      await withHarness(dialect, async (h) => {
        const end = T0S - 3 * DAY;
        await deliverAll(h, [subEvent('customer.subscription.created', end - 30 * DAY, 'sub_edge', { start: end - 30 * DAY, end })]);
        await tickAt(h, T0); // exactly 3 days
        expect(await mine(h)).toHaveLength(0);
        await tickAt(h, T0 + 60_000);
        expect(await subjects(h)).toEqual(['sub_edge']);
        expect((await mine(h))[0]!.historical).toBe(false);
      });
    });

    it('resolves once the renewal invoice is paid (an unpaid invoice.created is not enough), or the subscription is canceled', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [subEvent('customer.subscription.created', START, 'sub_A'), subEvent('customer.subscription.created', START, 'sub_B')]);
        await tickAt(h, T0);
        expect(await subjects(h)).toEqual(['sub_A', 'sub_B']);
        const inv = renewal('in_A', 'sub_A', { paidAt: T0S + 60 });
        h.app.clock.set(T0 + 60_000);
        await deliverAll(h, [stripeEvent('invoice.created', { ...inv, status: 'open', amount_paid: 0, status_transitions: { paid_at: null }, period_end: START }, { created: T0S + 30 })]);
        await tickAt(h, T0 + 2 * 60_000);
        await tickAt(h, T0 + 65 * 60_000);
        expect((await mine(h)).every((i) => i.status === 'open')).toBe(true);
        h.app.clock.set(T0 + 66 * 60_000);
        await deliverAll(h, [stripeEvent('invoice.paid', inv, { created: T0S + 66 * MIN }), subEvent('customer.subscription.deleted', T0S + 66 * MIN, 'sub_B', { status: 'canceled' })]);
        await tickAt(h, T0 + 67 * 60_000);
        await tickAt(h, T0 + 128 * 60_000);
        expect((await mine(h)).map((i) => i.status)).toEqual(['resolved', 'resolved']);
        expect((await myNotifications(h)).map((n) => n.kind).sort()).toEqual(['open', 'open', 'resolve', 'resolve']);
      });
    });

    it('uses the newest state whatever the arrival order, and duplicates change nothing', async () => {
      await withHarness(dialect, async (h) => {
        const created = subEvent('customer.subscription.created', START, 'sub_R');
        const renewed = subEvent('customer.subscription.updated', END + 60, 'sub_R', { start: END, end: END + 30 * DAY });
        const paid = stripeEvent('invoice.paid', renewal('in_R', 'sub_R'), { created: END + HOUR });
        await deliverAll(h, [paid, renewed]);
        for (let i = 0; i < 10; i++) await deliverAll(h, [created]); // the oldest state arrives last, 10 times
        const lapsed = subEvent('customer.subscription.created', START, 'sub_L');
        for (let i = 0; i < 10; i++) await deliverAll(h, [lapsed]);
        await tickAt(h, T0);
        await tickAt(h, T0 + 60_000);
        expect(await subjects(h)).toEqual(['sub_L']);
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });

    it('opens lapses found in backfilled history as historical, without notifying', async () => {
      await withHarness(dialect, async (h) => {
        const end = T0S - 20 * DAY;
        await h.backfill(subEvent('customer.subscription.created', end - 30 * DAY, 'sub_old', { start: end - 30 * DAY, end }));
        await tickAt(h, T0);
        await tickAt(h, T0 + HOUR * 1000);
        const incidents = await mine(h);
        expect(incidents).toHaveLength(1);
        expect(incidents[0]!.historical).toBe(true);
        expect(incidents[0]!.severity).toBe('critical');
        expect(await myNotifications(h)).toHaveLength(0);
      });
    });

    it('applies tenant config and refuses invalid config', async () => {
      await withHarness(dialect, async (h) => {
        expect(await h.configure(DETECTOR, { graceDays: 0 })).toBe(400);
        expect(await h.configure(DETECTOR, { graceDays: 2.5 })).toBe(400);
        expect(await h.configure(DETECTOR, { statuses: ['active'] })).toBe(400);
        expect(await h.configure(DETECTOR, { graceDays: 5 })).toBe(200);
        await deliverAll(h, [subEvent('customer.subscription.created', START, 'sub_A')]);
        await tickAt(h, T0);
        expect(await mine(h)).toHaveLength(0); // 3 days and 10 minutes: within a 5-day grace
        await tickAt(h, (END + 5 * DAY + MIN) * 1000);
        expect(await subjects(h)).toEqual(['sub_A']);
        expect((await mine(h))[0]!.figures).toMatchObject({ graceDays: 5 });
      });
    });

    it('survives a restart: one incident, one notification', async () => {
      await withHarness(dialect, async (h) => {
        await deliverAll(h, [subEvent('customer.subscription.created', START, 'sub_A')]);
        await tickAt(h, T0);
        const before = await mine(h);
        expect(before).toHaveLength(1);
        await h.restart(new ManualClock(T0 + 6 * 60_000)); // past the old replica's lease
        await h.process();
        expect(await h.app.services.detectorEngine.runSchedule()).toBe(true);
        expect(await h.app.services.detectorEngine.runSchedule()).toBe(true);
        const after = await mine(h);
        expect(after.map((i) => [i.id, i.status, i.severity])).toEqual(before.map((i) => [i.id, 'open', 'warning']));
        expect(await myNotifications(h)).toHaveLength(1);
      });
    });
  });
}
