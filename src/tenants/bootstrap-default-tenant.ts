import { AppError } from '../shared/app-error.js';
import { DEFAULT_TENANT_ID, type CreatedTenant, type TenantService } from './tenant-service.js';

/**
 * On an empty database, create the `default` tenant with a first API key. Only the process whose
 * insert wins gets the result back (and prints the key, once); a racing replica gets undefined.
 */
export async function bootstrapDefaultTenant(tenants: TenantService): Promise<CreatedTenant | undefined> {
  if (await tenants.exists(DEFAULT_TENANT_ID)) return undefined;
  try {
    return await tenants.create({ id: DEFAULT_TENANT_ID, name: DEFAULT_TENANT_ID });
  } catch (error) {
    if (error instanceof AppError && error.code === 'conflict') return undefined;
    throw error;
  }
}
