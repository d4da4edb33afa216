import { invalidRequest, resourceMissing } from './errors.js';
import type { Params } from './params.js';
import type { ListObject } from './wire-types.js';

export const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'expand'] as const;

/**
 * Stripe's cursor pagination over a list already in the order Stripe returns it (newest first):
 * `limit` 1–100 (default 10), `starting_after` = the page after that id, `ending_before` = the page
 * just before it. An unknown cursor is a 404 like Stripe's.
 */
export function paginate<T>(items: T[], params: Params, url: string, idOf: (item: T) => string, kind: string): ListObject<T> {
  const limit = params.integer('limit') ?? 10;
  if (limit < 1 || limit > 100)
    throw invalidRequest('This value must be greater than or equal to 1 and less than or equal to 100.', { param: 'limit', code: 'parameter_invalid_integer' });
  const after = params.string('starting_after');
  const before = params.string('ending_before');
  if (after !== undefined && before !== undefined)
    throw invalidRequest('You may only specify one of these parameters: ending_before, starting_after.');
  if (after !== undefined) {
    const i = items.findIndex((item) => idOf(item) === after);
    if (i === -1) throw resourceMissing(kind, after, 'starting_after');
    const rest = items.slice(i + 1);
    return { object: 'list', data: rest.slice(0, limit), has_more: rest.length > limit, url };
  }
  if (before !== undefined) {
    const i = items.findIndex((item) => idOf(item) === before);
    if (i === -1) throw resourceMissing(kind, before, 'ending_before');
    const head = items.slice(0, i);
    return { object: 'list', data: head.slice(Math.max(0, head.length - limit)), has_more: head.length > limit, url };
  }
  return { object: 'list', data: items.slice(0, limit), has_more: items.length > limit, url };
}

/** `created` filters: an integer or `created[gte|gt|lte|lt]`. */
export function createdFilter(params: Params, key = 'created'): (created: number) => boolean {
  if (!params.has(key)) return () => true;
  const exact = typeof params.raw[key] === 'string' ? params.integer(key) : undefined;
  if (exact !== undefined) return (c) => c === exact;
  const range = params.object(key)?.allowOnly(['gt', 'gte', 'lt', 'lte']);
  const gt = range?.integer('gt');
  const gte = range?.integer('gte');
  const lt = range?.integer('lt');
  const lte = range?.integer('lte');
  return (c) =>
    (gt === undefined || c > gt) && (gte === undefined || c >= gte) && (lt === undefined || c < lt) && (lte === undefined || c <= lte);
}

/** Which expansions the request asked for (`expand[]=a&expand[]=b`). */
export function expansions(params: Params): Set<string> {
  return new Set(params.stringArray('expand'));
}
