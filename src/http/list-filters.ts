/**
 * A list endpoint's querystring as its service takes it: `tenantId` is resolved separately (auth.ts
 * `tenantOf`), `limit` (digits, checked by the route schema) becomes a number, and the filters and
 * cursor pass as given. The route schemas refuse unknown fields, so nothing else comes through; an
 * absent filter stays absent, which the services read like `undefined`.
 */
export function listFilters<Q extends { tenantId?: string; limit?: string }>(query: Q): Omit<Q, 'tenantId' | 'limit'> & { limit: number | undefined } {
  const { tenantId: _tenantId, limit, ...filters } = query;
  return { ...filters, limit: limit === undefined ? undefined : Number(limit) };
}
