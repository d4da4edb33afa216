/** Injected refund anomalies: refunds above their charge, and a refund storm in the middle of the night. */
import { refund } from '../generator/payments.js';
import { MINUTE_MS } from '../generator/types.js';
import { recentCharge, type InjectContext } from './context.js';

/**
 * Two people refund the same order: `firstShare` of the charge, then `secondShare` 35 minutes later
 * (together more than the charge). Stripe would refuse a refund above the remaining amount; it
 * happens when one refund is made on the charge and the other through a separate credit flow, or
 * with the integration's own refund records — the detector must see it from the refund objects.
 */
export function refundAboveCharge(ctx: InjectContext, start: number, firstShare = 0.7, secondShare = 0.55): void {
  const w = ctx.world;
  const second = start + 35 * MINUTE_MS;
  const inj = ctx.expect({
    detector: 'refund_exceeds_charge',
    label: `charge refunded ${Math.round(firstShare * 100)}% + ${Math.round(secondShare * 100)}% (two refund objects)`,
    subjectType: 'charge',
    startsAt: second,
    window: { from: second, to: second + 30 * MINUTE_MS },
    // The extra refunds also count in the tenant's 24 h refunded ÷ captured ratio.
    explains: ['refund_surge'],
  });
  w.schedule(start, () => {
    const c = recentCharge(w, (x) => x.refunds.length === 0 && x.customer !== null && x.createdMs < start - 6 * 3_600_000 && x.amount >= (x.currency === 'jpy' ? 3_000 : 2_000));
    if (!c) throw new Error(`refundAboveCharge: no charge to refund for ${w.profile.key}`);
    inj.subjectId = c.id;
    const round = (v: number) => (c.currency === 'jpy' ? Math.round(v / 10) * 10 : Math.round(v));
    refund(w, c, round(c.amount * firstShare), start, 'requested_by_customer');
    w.schedule(second, () => refund(w, c, round(c.amount * secondShare), second, 'duplicate'));
  });
}

/** A refund script gone wrong at night: `count` full refunds of recent orders within ~8 minutes. */
export function refundStorm(ctx: InjectContext, start: number, count = 14): void {
  const w = ctx.world;
  ctx.expect({
    detector: 'refund_surge',
    label: `refund storm: ${count} full refunds in 8 minutes at night`,
    subjectType: 'tenant',
    startsAt: start,
    // The burst shows within minutes; the storm's refunds then stay in the 24 h ratio window.
    window: { from: start, to: start + 25 * 60 * MINUTE_MS },
  });
  w.schedule(start, () => {
    const taken = new Set<string>();
    for (let i = 0; i < count; i++) {
      const c = recentCharge(w, (x) => !taken.has(x.id) && x.refunds.length === 0 && x.createdMs < start - 3_600_000 && ctx.rng.chance(0.3));
      if (!c) break;
      taken.add(c.id);
      const t = start + Math.floor((i * 8 * MINUTE_MS) / count) + ctx.rng.int(0, 20_000);
      w.schedule(t, () => refund(w, c, c.amount - c.refunds.reduce((a, r) => a + r.amount, 0), t, 'requested_by_customer'));
    }
  });
}
