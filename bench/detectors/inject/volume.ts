/** Injected volume drops: the signup flow breaks, and the storefront goes down. */
import { HOUR_MS } from '../generator/types.js';
import type { InjectContext } from './context.js';

/** New subscriptions fall to `factor` of normal for `hours` hours (a broken signup page). */
export function newSubscriptionDrop(ctx: InjectContext, start: number, hours = 36, factor = 0.05): void {
  const end = start + hours * HOUR_MS;
  ctx.world.modifiers.push({ process: 'signup', from: start, to: end, factor });
  ctx.expect({
    detector: 'new_subscription_drop',
    label: `signups at ${Math.round(factor * 100)}% for ${hours} h`,
    subjectType: 'tenant',
    startsAt: start,
    window: { from: start, to: end + 6 * HOUR_MS },
    explains: ['revenue_drop'],
  });
}

/** One-off purchases fall to `factor` of normal for `hours` hours (the storefront is down). */
export function revenueDrop(ctx: InjectContext, start: number, hours = 32, factor = 0.12): void {
  const end = start + hours * HOUR_MS;
  ctx.world.modifiers.push({ process: 'oneOff', from: start, to: end, factor });
  ctx.world.modifiers.push({ process: 'signup', from: start, to: end, factor });
  ctx.expect({
    detector: 'revenue_drop',
    label: `storefront down: purchases at ${Math.round(factor * 100)}% for ${hours} h`,
    subjectType: 'tenant',
    startsAt: start,
    window: { from: start, to: end + 6 * HOUR_MS },
    explains: ['new_subscription_drop'],
  });
}
