import type { Account, EventRecord } from '../account.js';
import { invalidRequest, resourceMissing } from '../errors.js';
import { LIST_PARAMS, createdFilter, paginate } from '../list.js';
import type { Router } from '../router.js';

/** "List events, going back up to 30 days." Older events are neither listed nor retrievable. */
export const EVENT_RETENTION_SECONDS = 30 * 86_400;

/** Newest first: by `created`, then by the order they were recorded. */
export function visibleEvents(account: Account): EventRecord[] {
  const oldest = account.nowSeconds() - EVENT_RETENTION_SECONDS;
  return account.events
    .filter((r) => r.event.created >= oldest)
    .sort((a, b) => b.event.created - a.event.created || b.seq - a.seq);
}

/** `type` may end in a wildcard (`customer.*`), as Stripe allows. */
function typeMatcher(type: string): (t: string) => boolean {
  if (!type.includes('*')) return (t) => t === type;
  const pattern = new RegExp(`^${type.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return (t) => pattern.test(t);
}

export function registerEventRoutes(router: Router): void {
  router.add('GET', '/v1/events', (ctx) => {
    const p = ctx.params.allowOnly([...LIST_PARAMS, 'type', 'types', 'created', 'delivery_success']);
    const type = p.string('type');
    const types = p.stringArray('types');
    if (type !== undefined && types.length > 0) throw invalidRequest('You may pass either type or types, but not both.', { param: 'types' });
    if (types.length > 20) throw invalidRequest('types may contain at most 20 event types.', { param: 'types' });
    const matchType = type !== undefined ? typeMatcher(type) : types.length > 0 ? (t: string) => types.includes(t) : () => true;
    const created = createdFilter(p);
    const delivery = p.boolean('delivery_success');
    const all = visibleEvents(ctx.account).filter(
      (r) => matchType(r.event.type) && created(r.event.created) && (delivery === undefined || r.deliverySuccess === delivery),
    );
    const page = paginate(all, p, '/v1/events', (r) => r.event.id, 'event');
    return { body: { ...page, data: page.data.map((r) => r.event) } };
  });

  router.add('GET', '/v1/events/:id', (ctx) => {
    ctx.params.allowOnly(['expand']);
    const id = ctx.pathParams.id ?? '';
    const record = visibleEvents(ctx.account).find((r) => r.event.id === id);
    if (record === undefined) throw resourceMissing('event', id);
    return { body: record.event };
  });
}
