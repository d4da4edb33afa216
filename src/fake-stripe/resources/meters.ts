import type { Account } from '../account.js';
import { invalidRequest, missingParam, resourceMissing } from '../errors.js';
import { newId } from '../ids.js';
import { LIST_PARAMS, paginate } from '../list.js';
import type { Params } from '../params.js';
import type { Router } from '../router.js';
import type { MeterObject } from '../wire-types.js';

export function createMeter(account: Account, p: Params, request: { id?: string; idempotencyKey?: string | null } = {}): MeterObject {
  p.allowOnly(['display_name', 'event_name', 'default_aggregation', 'customer_mapping', 'value_settings', 'event_time_window', 'expand']);
  const displayName = p.requiredString('display_name');
  const eventName = p.requiredString('event_name');
  const aggregation = p.object('default_aggregation')?.allowOnly(['formula']);
  if (aggregation === undefined) throw missingParam('default_aggregation');
  const formula = aggregation.enumOf('formula', ['sum', 'count', 'last'] as const);
  if (formula === undefined) throw missingParam('default_aggregation[formula]');
  const mapping = p.object('customer_mapping')?.allowOnly(['event_payload_key', 'type']);
  const customerKey = mapping ? mapping.requiredString('event_payload_key') : 'stripe_customer_id';
  if (mapping) mapping.enumOf('type', ['by_id'] as const) ?? missingParam('customer_mapping[type]');
  const valueKey = p.object('value_settings')?.allowOnly(['event_payload_key']).requiredString('event_payload_key') ?? 'value';
  const window = p.enumOf('event_time_window', ['day', 'hour'] as const) ?? null;
  // "You can only use an event name with a single meter."
  if ([...account.meters.values()].some((m) => m.event_name === eventName && m.status === 'active'))
    throw invalidRequest(`An active meter with event_name ${eventName} already exists.`, { param: 'event_name' });
  const now = account.nowSeconds();
  const meter: MeterObject = {
    id: newId(account.livemode ? 'mtr' : 'mtr_test', 32),
    object: 'billing.meter',
    created: now,
    customer_mapping: { event_payload_key: customerKey, type: 'by_id' },
    default_aggregation: { formula },
    display_name: displayName,
    event_name: eventName,
    event_time_window: window,
    livemode: account.livemode,
    status: 'active',
    status_transitions: { deactivated_at: null },
    updated: now,
    value_settings: { event_payload_key: valueKey },
  };
  account.meters.set(meter.id, meter);
  account.recordEvent('billing.meter.created', meter, { requestId: request.id ?? null, idempotencyKey: request.idempotencyKey ?? null });
  return meter;
}

export function getMeter(account: Account, id: string, param = 'id'): MeterObject {
  const meter = account.meters.get(id);
  if (meter === undefined) throw resourceMissing('billing.meter', id, param);
  return meter;
}

export function setMeterStatus(account: Account, meter: MeterObject, status: 'active' | 'inactive', requestId: string | null = null): MeterObject {
  if (meter.status === status)
    throw invalidRequest(`The meter ${meter.id} is already ${status === 'active' ? 'active' : 'deactivated'}.`, { param: 'id' });
  if (status === 'active' && [...account.meters.values()].some((m) => m.id !== meter.id && m.status === 'active' && m.event_name === meter.event_name))
    throw invalidRequest(`An active meter with event_name ${meter.event_name} already exists.`, { param: 'id' });
  const now = account.nowSeconds();
  meter.status = status;
  meter.updated = now;
  meter.status_transitions = { deactivated_at: status === 'inactive' ? now : null };
  account.recordEvent(status === 'inactive' ? 'billing.meter.deactivated' : 'billing.meter.reactivated', meter, { requestId });
  return meter;
}

/** The active meter for an event name, as meter events find theirs. */
export function activeMeterFor(account: Account, eventName: string): MeterObject | undefined {
  for (const m of account.meters.values()) if (m.event_name === eventName && m.status === 'active') return m;
  return undefined;
}

export function registerMeterRoutes(router: Router): void {
  router.add('POST', '/v1/billing/meters', (ctx) => ({
    body: createMeter(ctx.account, ctx.params, { id: ctx.requestId, idempotencyKey: ctx.idempotencyKey }),
  }));

  router.add('GET', '/v1/billing/meters', (ctx) => {
    const p = ctx.params.allowOnly([...LIST_PARAMS, 'status']);
    const status = p.enumOf('status', ['active', 'inactive'] as const);
    const all = [...ctx.account.meters.values()].reverse().filter((m) => status === undefined || m.status === status);
    return { body: paginate(all, p, '/v1/billing/meters', (m) => m.id, 'billing.meter') };
  });

  router.add('GET', '/v1/billing/meters/:id', (ctx) => {
    ctx.params.allowOnly(['expand']);
    return { body: getMeter(ctx.account, ctx.pathParams.id ?? '') };
  });

  router.add('POST', '/v1/billing/meters/:id', (ctx) => {
    const p = ctx.params.allowOnly(['display_name', 'expand']);
    const meter = getMeter(ctx.account, ctx.pathParams.id ?? '');
    const name = p.string('display_name');
    if (name !== undefined && name !== meter.display_name) {
      const previous = { display_name: meter.display_name };
      meter.display_name = name;
      meter.updated = ctx.account.nowSeconds();
      ctx.account.recordEvent('billing.meter.updated', meter, { previousAttributes: previous, requestId: ctx.requestId });
    }
    return { body: meter };
  });

  router.add('POST', '/v1/billing/meters/:id/deactivate', (ctx) => {
    ctx.params.allowOnly(['expand']);
    return { body: setMeterStatus(ctx.account, getMeter(ctx.account, ctx.pathParams.id ?? ''), 'inactive', ctx.requestId) };
  });

  router.add('POST', '/v1/billing/meters/:id/reactivate', (ctx) => {
    ctx.params.allowOnly(['expand']);
    return { body: setMeterStatus(ctx.account, getMeter(ctx.account, ctx.pathParams.id ?? ''), 'active', ctx.requestId) };
  });
}
