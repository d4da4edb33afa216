/**
 * Every error a caller may see carries a stable code. The HTTP status for each code is decided in
 * one place (`http/error-handler.ts`), so domain code never thinks in status codes.
 */
export type ErrorCode =
  | 'bad_request'
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'store_unavailable'
  | 'webhook_secret_missing'
  | 'signature_invalid'
  | 'invalid_event'
  | 'alert_target_refused'
  | 'email_not_configured'
  | 'stripe_unavailable'
  | 'internal';

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Extra, safe-to-show facts (e.g. `retryAfterSeconds`). Never secrets. */
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const forbidden = (message: string) => new AppError('forbidden', message);
export const badRequest = (message: string, details?: Record<string, unknown>) =>
  new AppError('bad_request', message, details);
