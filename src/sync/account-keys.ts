import type { SyncMode } from '../store/sync-store.js';
import type { TenantService } from '../tenants/tenant-service.js';

export type AccountKey = { apiKey: string } | { missing: string };

/**
 * The key a mode pushes with. Shadow uses the tenant's test-mode key and nothing else: without it
 * shadow is off (with this reason), never redirected to the live key; a test key equal to the live
 * key is refused for the same reason (shadow traffic would land in the live account).
 */
export async function accountKey(tenants: TenantService, tenantId: string, mode: SyncMode): Promise<AccountKey> {
  const live = await tenants.stripeApiKey(tenantId, 'live');
  if (mode === 'live') {
    return live ? { apiKey: live } : { missing: `the tenant has no Stripe API key (PUT /v1/tenants/${tenantId}/stripe {"apiKey"}): nothing is pushed` };
  }
  const test = await tenants.stripeApiKey(tenantId, 'test');
  if (!test) return { missing: `shadow is disabled: the tenant has no test-mode key (PUT /v1/tenants/${tenantId}/stripe {"testApiKey"}); shadow never falls back to the live key` };
  if (test === live) return { missing: 'shadow is disabled: the test-mode key is the same as the live key, so shadow pushes would land in the live account' };
  return { apiKey: test };
}
