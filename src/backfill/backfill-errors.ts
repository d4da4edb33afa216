import { AppError } from '../shared/app-error.js';

export const stripeKeyMissing = (tenantId: string) =>
  new AppError(
    'conflict',
    `Tenant "${tenantId}" has no Stripe API key, so its history cannot be read: set one with PUT /v1/tenants/${tenantId}/stripe {"apiKey":"rk_…"} (a restricted key with read access to Events is enough)`,
  );

export const backfillActive = (jobId: string) =>
  new AppError('conflict', `A backfill of this tenant is already queued or running: ${jobId} (GET /v1/jobs/${jobId}; cancel it with POST /v1/jobs/${jobId}/cancel)`, { jobId });

export const invalidBackfill = (problems: string[]) => new AppError('validation_failed', problems.join('; '), { problems });
