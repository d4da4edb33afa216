/** Injected dispute spike: a fraud ring's charges come back as disputes and early fraud warnings. */
import { dispute, earlyFraudWarning } from '../generator/payments.js';
import { HOUR_MS, MINUTE_MS } from '../generator/types.js';
import { recentCharge, type InjectContext } from './context.js';

export function disputeSpike(ctx: InjectContext, start: number, disputes = 7, warnings = 3, hours = 10): void {
  const w = ctx.world;
  ctx.expect({
    detector: 'dispute_spike',
    label: `${disputes} disputes + ${warnings} early fraud warnings in ${hours} h`,
    subjectType: 'tenant',
    startsAt: start,
    window: { from: start, to: start + hours * HOUR_MS + 60 * MINUTE_MS },
  });
  w.schedule(start, () => {
    const taken = new Set<string>();
    const pickCharge = () => {
      const c = recentCharge(w, (x) => !taken.has(x.id) && x.createdMs < start - 3 * 24 * HOUR_MS && ctx.rng.chance(0.05));
      if (!c) throw new Error(`disputeSpike: no charge for ${w.profile.key}`);
      taken.add(c.id);
      return c;
    };
    for (let i = 0; i < disputes + warnings; i++) {
      const c = pickCharge();
      const t = start + Math.floor(ctx.rng.uniform(0, hours * HOUR_MS));
      if (i < disputes) w.schedule(t, () => dispute(w, c, t, 'fraudulent'));
      else w.schedule(t, () => earlyFraudWarning(w, c, t));
    }
  });
}
