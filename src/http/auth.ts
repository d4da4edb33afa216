import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { AppError } from '../shared/app-error.js';
import type { Scope } from '../store/store.js';
import { requireAdmin, requireScope, resolveTenantId, type Principal } from '../tenants/principal.js';
import type { Services } from './services.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

export interface AccessRule {
  admin?: boolean;
  scope?: Scope;
}

export function requireAccess(services: Services, rule: AccessRule): preHandlerAsyncHookHandler {
  return async function (request: FastifyRequest, _reply: FastifyReply) {
    const principal = await services.authenticator.authenticate(request.headers.authorization);
    if (rule.admin) requireAdmin(principal);
    if (rule.scope) requireScope(principal, rule.scope);
    request.principal = principal;
  };
}

/** The tenant this request acts on; see `resolveTenantId` for the rules. */
export function tenantOf(request: FastifyRequest, requestedTenantId?: string): string {
  if (!request.principal) throw new AppError('unauthorized', 'Authentication required');
  const header = request.headers['x-tenant-id'];
  return resolveTenantId(request.principal, {
    tenantId: requestedTenantId,
    header: typeof header === 'string' && header.length > 0 ? header : undefined,
  });
}
