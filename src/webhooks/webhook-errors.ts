import { AppError } from '../shared/app-error.js';

export const secretMissing = () =>
  new AppError(
    'webhook_secret_missing',
    'No Stripe webhook signing secret is configured for this tenant, so no event can be verified; set STRIPE_WEBHOOK_SECRET or PUT /v1/tenants/{id}/stripe',
  );
export const signatureInvalid = (reason: string) => new AppError('signature_invalid', `Stripe signature verification failed: ${reason}`);
export const invalidEvent = (reason: string) => new AppError('invalid_event', `The signed body is not a Stripe event: ${reason}`);
export const unknownWebhookToken = () => new AppError('not_found', 'Unknown webhook URL');
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError('rate_limited', 'Too many webhook deliveries for this tenant; retry later', { retryAfterSeconds });
