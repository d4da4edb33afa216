import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../../shared/app-error.js';
import { parseJsonExact } from '../../metering/exact-json.js';

/** Bodies holding numbers too long for a double (their meta must be re-serialised verbatim). */
const exactBodies = new WeakSet<object>();

/**
 * Replaces the scope's JSON parser with the exact one (see metering/exact-json.ts): quantities keep
 * every digit, and long literals reach validation as ExactNumber rather than a rounded double.
 */
export function useExactJson(app: FastifyInstance, bodyLimit: number): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_request, body, done) => {
    try {
      const parsed = parseJsonExact(body as string);
      if (parsed.exact && typeof parsed.value === 'object' && parsed.value !== null) exactBodies.add(parsed.value);
      done(null, parsed.value);
    } catch {
      done(new AppError('bad_request', 'Request body is not valid JSON'), undefined);
    }
  });
}

export function isExactBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && exactBodies.has(body);
}

/** Who did it, for audit columns. */
export function actorOf(request: FastifyRequest): string {
  return request.principal?.kind === 'api_key' ? `api_key:${request.principal.keyId}` : 'admin';
}
