import type { Account } from '../account.js';
import { resourceMissing } from '../errors.js';
import { newId } from '../ids.js';
import { LIST_PARAMS, createdFilter, paginate } from '../list.js';
import type { Router } from '../router.js';
import type { ProductObject } from '../wire-types.js';

export function createProduct(
  account: Account,
  input: { name: string; description?: string | null; metadata?: Record<string, string>; active?: boolean; id?: string },
  request: { id?: string; idempotencyKey?: string | null } = {},
): ProductObject {
  const now = account.nowSeconds();
  const product: ProductObject = {
    id: input.id ?? newId('prod', 14),
    object: 'product',
    active: input.active ?? true,
    created: now,
    description: input.description ?? null,
    livemode: account.livemode,
    metadata: input.metadata ?? {},
    name: input.name,
    type: 'service',
    updated: now,
  };
  account.products.set(product.id, product);
  account.recordEvent('product.created', product, { requestId: request.id ?? null, idempotencyKey: request.idempotencyKey ?? null });
  return product;
}

export function registerProductRoutes(router: Router): void {
  router.add('POST', '/v1/products', (ctx) => {
    const p = ctx.params.allowOnly(['name', 'description', 'metadata', 'active', 'id', 'expand']);
    const product = createProduct(
      ctx.account,
      { name: p.requiredString('name'), description: p.string('description'), metadata: p.stringMap('metadata'), active: p.boolean('active'), id: p.string('id') },
      { id: ctx.requestId, idempotencyKey: ctx.idempotencyKey },
    );
    return { body: product };
  });

  router.add('GET', '/v1/products', (ctx) => {
    const p = ctx.params.allowOnly([...LIST_PARAMS, 'active', 'created']);
    const active = p.boolean('active');
    const created = createdFilter(p);
    const all = [...ctx.account.products.values()].reverse().filter((x) => (active === undefined || x.active === active) && created(x.created));
    return { body: paginate(all, p, '/v1/products', (x) => x.id, 'product') };
  });

  router.add('GET', '/v1/products/:id', (ctx) => {
    ctx.params.allowOnly(['expand']);
    const id = ctx.pathParams.id ?? '';
    const product = ctx.account.products.get(id);
    if (product === undefined) throw resourceMissing('product', id);
    return { body: product };
  });
}
