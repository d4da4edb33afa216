import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../shared/app-error.js';
import { PricingError } from '../pricing/pricing-error.js';

/** The one place where error codes become HTTP statuses. */
export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  webhook_secret_missing: 400,
  signature_invalid: 400,
  invalid_event: 400,
  alert_target_refused: 400,
  email_not_configured: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  store_unavailable: 503,
  stripe_unavailable: 503,
};

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: Record<string, unknown> };
}

/** Framework errors (body limits, bad JSON, schema validation) become AppErrors with safe messages. */
export function toAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof PricingError) return new AppError('validation_failed', error.message, { pricingCode: error.code, ...(error.path ? { path: error.path } : {}) });
  const e = error as Partial<FastifyError> & { validation?: unknown[] };
  if (e.validation) return new AppError('validation_failed', `Request ${e.validationContext ?? 'input'} is invalid: ${e.message ?? ''}`);
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'Unsupported Content-Type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('bad_request', 'Request body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('bad_request', 'Request body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('bad_request', 'Content-Length does not match the body');
  }
  if (e.statusCode === 400 && typeof e.message === 'string' && /JSON/i.test(e.message)) {
    return new AppError('bad_request', 'Request body is not valid JSON');
  }
  return new AppError('internal', 'Internal error');
}

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const status = STATUS_BY_CODE[error.code];
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  if (error.code === 'unauthorized') reply.header('www-authenticate', 'Bearer');
  const body: ErrorBody = { error: { code: error.code, message: error.message, requestId: request.id } };
  if (error.details && error.code === 'validation_failed') body.error.details = error.details;
  return reply.status(status).send(body);
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const appError = toAppError(error);
    const status = STATUS_BY_CODE[appError.code];
    if (status >= 500) request.log.error({ err: error, code: appError.code }, 'request failed');
    else request.log.debug({ code: appError.code }, appError.message);
    return sendError(request, reply, appError);
  });
  app.setNotFoundHandler((request, reply) => sendError(request, reply, new AppError('not_found', 'Route not found')));
}
