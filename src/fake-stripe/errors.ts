/**
 * Errors in Stripe's wire shape. v1: `{error:{type, code?, message, param?, doc_url?}}` with the status
 * Stripe uses for the type (400 invalid request, 401 auth, 404 missing, 429 rate limit, 5xx api_error).
 * v2 uses the same envelope with v2 types (`temporary_session_expired`, …), which the SDK maps to its
 * own error classes.
 */
export interface StripeErrorBody {
  type: string;
  message: string;
  code?: string;
  param?: string;
  doc_url?: string;
}

export class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: StripeErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.message);
    this.name = 'StripeApiError';
  }
}

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replace(/_/g, '-')}`;

export function invalidRequest(message: string, options: { code?: string; param?: string } = {}): StripeApiError {
  return new StripeApiError(400, {
    type: 'invalid_request_error',
    message,
    ...(options.code ? { code: options.code, doc_url: docUrl(options.code) } : {}),
    ...(options.param ? { param: options.param } : {}),
  });
}

export const missingParam = (param: string) =>
  invalidRequest(`Missing required param: ${param}.`, { code: 'parameter_missing', param });

export const unknownParam = (param: string) =>
  invalidRequest(`Received unknown parameter: ${param}`, { code: 'parameter_unknown', param });

export const invalidInteger = (param: string, value: string) =>
  invalidRequest(`Invalid integer: ${value}`, { code: 'parameter_invalid_integer', param });

export const invalidEnum = (param: string, value: string, allowed: readonly string[]) =>
  invalidRequest(`Invalid ${param}: "${value}" must be one of ${allowed.join(', ')}`, { param });

/** `No such customer: 'cus_x'`, the message and code Stripe gives for an unknown id. */
export function resourceMissing(kind: string, id: string, param = 'id'): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    code: 'resource_missing',
    doc_url: docUrl('resource_missing'),
    message: `No such ${kind}: '${id}'`,
    param,
  });
}

export function unrecognizedUrl(method: string, path: string): StripeApiError {
  return new StripeApiError(404, {
    type: 'invalid_request_error',
    message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  });
}

export function authenticationError(message: string): StripeApiError {
  return new StripeApiError(401, { type: 'invalid_request_error', message });
}

export function idempotencyMismatch(key: string): StripeApiError {
  return new StripeApiError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

export function v2Error(status: number, type: string, message: string, code?: string): StripeApiError {
  return new StripeApiError(status, { type, message, ...(code ? { code } : {}) });
}
