import type { Account } from '../account.js';
import { resourceMissing } from '../errors.js';
import { newId } from '../ids.js';
import { LIST_PARAMS, createdFilter, paginate } from '../list.js';
import type { Router } from '../router.js';
import type { CustomerObject } from '../wire-types.js';

export interface CustomerInput {
  email?: string | null;
  name?: string | null;
  description?: string | null;
  phone?: string | null;
  metadata?: Record<string, string>;
}

export function createCustomer(account: Account, input: CustomerInput, request: { id?: string; idempotencyKey?: string | null } = {}): CustomerObject {
  const customer: CustomerObject = {
    id: newId('cus', 14),
    object: 'customer',
    address: null,
    balance: 0,
    created: account.nowSeconds(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: input.description ?? null,
    discount: null,
    email: input.email ?? null,
    invoice_prefix: newId('x', 7).slice(2).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: account.livemode,
    metadata: input.metadata ?? {},
    name: input.name ?? null,
    next_invoice_sequence: 1,
    phone: input.phone ?? null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
  account.customers.set(customer.id, customer);
  account.recordEvent('customer.created', customer, { requestId: request.id ?? null, idempotencyKey: request.idempotencyKey ?? null });
  return customer;
}

export function getCustomer(account: Account, id: string, param = 'id'): CustomerObject {
  const customer = account.customers.get(id);
  if (customer === undefined) throw resourceMissing('customer', id, param);
  return customer;
}

const FIELDS = ['email', 'name', 'description', 'phone', 'metadata'] as const;

export function registerCustomerRoutes(router: Router): void {
  router.add('POST', '/v1/customers', (ctx) => {
    const p = ctx.params.allowOnly([...FIELDS, 'expand']);
    const customer = createCustomer(
      ctx.account,
      { email: p.string('email'), name: p.string('name'), description: p.string('description'), phone: p.string('phone'), metadata: p.stringMap('metadata') },
      { id: ctx.requestId, idempotencyKey: ctx.idempotencyKey },
    );
    return { body: customer };
  });

  router.add('GET', '/v1/customers', (ctx) => {
    const p = ctx.params.allowOnly([...LIST_PARAMS, 'email', 'created']);
    const email = p.string('email');
    const created = createdFilter(p);
    const all = [...ctx.account.customers.values()].reverse().filter((c) => (email === undefined || c.email === email) && created(c.created));
    return { body: paginate(all, p, '/v1/customers', (c) => c.id, 'customer') };
  });

  router.add('GET', '/v1/customers/:id', (ctx) => {
    ctx.params.allowOnly(['expand']);
    return { body: getCustomer(ctx.account, ctx.pathParams.id ?? '') };
  });

  router.add('POST', '/v1/customers/:id', (ctx) => {
    const p = ctx.params.allowOnly([...FIELDS, 'expand']);
    const customer = getCustomer(ctx.account, ctx.pathParams.id ?? '');
    const previous: Record<string, unknown> = {};
    for (const field of ['email', 'name', 'description', 'phone'] as const) {
      const v = p.string(field);
      if (v === undefined) continue;
      previous[field] = customer[field];
      customer[field] = v === '' ? null : v;
    }
    const metadata = p.stringMap('metadata');
    if (metadata !== undefined) {
      previous.metadata = { ...customer.metadata };
      const next = Object.keys(metadata).length === 0 ? {} : { ...customer.metadata };
      for (const [k, v] of Object.entries(metadata)) {
        if (v === '') delete next[k];
        else next[k] = v;
      }
      customer.metadata = next;
    }
    ctx.account.recordEvent('customer.updated', customer, { previousAttributes: previous, requestId: ctx.requestId, idempotencyKey: ctx.idempotencyKey });
    return { body: customer };
  });

  router.add('DELETE', '/v1/customers/:id', (ctx) => {
    const customer = getCustomer(ctx.account, ctx.pathParams.id ?? '');
    ctx.account.customers.delete(customer.id);
    ctx.account.recordEvent('customer.deleted', customer, { requestId: ctx.requestId });
    return { body: { id: customer.id, object: 'customer', deleted: true } };
  });
}
