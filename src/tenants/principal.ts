import { AppError } from '../shared/app-error.js';
import { constantTimeEqual } from '../crypto/secret-box.js';
import type { Scope } from '../store/store.js';
import type { ApiKeyService } from './api-key-service.js';

export type Principal =
  | { kind: 'admin' }
  | { kind: 'api_key'; keyId: string; tenantId: string; scopes: readonly Scope[] };

const unauthorized = () => new AppError('unauthorized', 'A valid `Authorization: Bearer <key>` header is required');

/** Turns an Authorization header into a principal; anything but a valid credential is a 401. */
export class Authenticator {
  constructor(
    private readonly adminToken: string | undefined,
    private readonly apiKeys: ApiKeyService,
  ) {}

  async authenticate(header: string | undefined): Promise<Principal> {
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const token = match?.[1];
    if (!token) throw unauthorized();
    if (this.adminToken !== undefined && constantTimeEqual(token, this.adminToken)) return { kind: 'admin' };
    const key = await this.apiKeys.authenticate(token);
    if (!key) throw unauthorized();
    return { kind: 'api_key', keyId: key.id, tenantId: key.tenantId, scopes: key.scopes };
  }
}

export function requireAdmin(principal: Principal): void {
  if (principal.kind !== 'admin') throw new AppError('forbidden', 'This operation needs the admin token');
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (principal.kind === 'api_key' && !principal.scopes.includes(scope)) {
    throw new AppError('forbidden', `This API key lacks the "${scope}" scope`);
  }
}

/**
 * The tenant a request acts on. A key acts only on its own tenant: a different `tenantId` in the body
 * or query, or an `X-Tenant-ID` header naming another tenant, is a 403. The admin token must say
 * which tenant, by `X-Tenant-ID` or `tenantId`, and the two may not disagree.
 */
export function resolveTenantId(principal: Principal, requested: { tenantId?: string | undefined; header?: string | undefined }): string {
  if (principal.kind === 'api_key') {
    if (requested.tenantId !== undefined && requested.tenantId !== principal.tenantId)
      throw new AppError('forbidden', 'tenantId does not match the API key’s tenant');
    if (requested.header !== undefined && requested.header !== principal.tenantId)
      throw new AppError('forbidden', 'X-Tenant-ID is honoured only with the admin token');
    return principal.tenantId;
  }
  if (requested.tenantId !== undefined && requested.header !== undefined && requested.tenantId !== requested.header)
    throw new AppError('bad_request', 'X-Tenant-ID and tenantId name different tenants');
  const tenantId = requested.tenantId ?? requested.header;
  if (tenantId === undefined) throw new AppError('bad_request', 'With the admin token, name the tenant with X-Tenant-ID or tenantId');
  return tenantId;
}
