import type { Account, MeterEventRecord } from '../account.js';
import { invalidRequest, missingParam } from '../errors.js';
import type { Router } from '../router.js';
import { IDENTIFIER_WINDOW_MS } from './meter-events.js';

/**
 * "You can only cancel events sent to Stripe within the last 24 hours": the window runs from when the
 * event was accepted, not from its timestamp. A cancelled event leaves every summary.
 */
export function cancelMeterEvent(account: Account, eventName: string, identifier: string): MeterEventRecord {
  const record = account.identifiers.get(identifier);
  if (record === undefined || account.now() - record.acceptedAtMs >= IDENTIFIER_WINDOW_MS)
    throw invalidRequest(`No meter event with identifier ${identifier} was received in the last 24 hours; only those can be cancelled.`, {
      param: 'cancel[identifier]',
    });
  if (record.event_name !== eventName)
    throw invalidRequest(`The meter event with identifier ${identifier} belongs to event_name ${record.event_name}, not ${eventName}.`, { param: 'event_name' });
  if (record.cancelled) throw invalidRequest(`The meter event with identifier ${identifier} has already been cancelled.`, { param: 'cancel[identifier]' });
  record.cancelled = true;
  return record;
}

export function registerMeterEventAdjustmentRoutes(router: Router): void {
  router.add('POST', '/v1/billing/meter_event_adjustments', (ctx) => {
    const p = ctx.params.allowOnly(['event_name', 'type', 'cancel', 'expand']);
    const eventName = p.requiredString('event_name');
    const type = p.enumOf('type', ['cancel'] as const) ?? 'cancel';
    const cancel = p.object('cancel')?.allowOnly(['identifier']);
    if (cancel === undefined) throw missingParam('cancel');
    const identifier = cancel.requiredString('identifier');
    cancelMeterEvent(ctx.account, eventName, identifier);
    return {
      body: {
        object: 'billing.meter_event_adjustment',
        cancel: { identifier },
        event_name: eventName,
        livemode: ctx.account.livemode,
        // Stripe may answer `pending` and apply later; the fake applies at once.
        status: 'complete',
        type,
      },
    };
  });
}
