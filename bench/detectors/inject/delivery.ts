/** Injected delivery faults: an endpoint outage (webhook silence) and slow deliveries (webhook delay). */
import { HOUR_MS, MINUTE_MS } from '../generator/types.js';
import type { InjectContext } from './context.js';

/**
 * The tenant's endpoint fails for `hours` (a secret rotated on one side only): nothing is stored;
 * Stripe keeps retrying and delivers the backlog within 45 minutes once it is fixed.
 */
export function webhookSilence(ctx: InjectContext, start: number, hours = 7): void {
  const end = start + hours * HOUR_MS;
  ctx.delivery.faults.push({ kind: 'outage', from: start, to: end, drainMs: 45 * MINUTE_MS });
  ctx.expect({
    detector: 'webhook_silence',
    label: `endpoint down ${hours} h: no deliveries, then the backlog`,
    subjectType: 'tenant',
    startsAt: start,
    window: { from: start, to: end + 15 * MINUTE_MS },
    // The backlog arrives hours late, and the missing hours lower the day's counts meanwhile.
    explains: ['webhook_delay', 'revenue_drop', 'new_subscription_drop'],
  });
}

/** Events created during `minutes` arrive 22–35 minutes late. */
export function webhookDelay(ctx: InjectContext, start: number, minutes = 90): void {
  const end = start + minutes * MINUTE_MS;
  ctx.delivery.faults.push({ kind: 'delay', from: start, to: end, minMs: 22 * MINUTE_MS, maxMs: 35 * MINUTE_MS });
  ctx.expect({
    detector: 'webhook_delay',
    label: `deliveries 22–35 min late for ${minutes} min`,
    subjectType: 'tenant',
    startsAt: start,
    window: { from: start, to: end + 95 * MINUTE_MS },
  });
}
