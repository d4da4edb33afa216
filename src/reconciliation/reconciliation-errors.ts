import { AppError } from '../shared/app-error.js';

export const stripeKeyMissing = () =>
  new AppError('conflict', 'This tenant has no Stripe API key: set one with PUT /v1/tenants/{id}/stripe {"apiKey": "rk_…"} before reconciling');
export const correctionNotFound = () => new AppError('not_found', 'No such correction');
export const correctionDecided = (status: string) => new AppError('conflict', `This correction is already ${status}`);
export const correctionNotApplicable = (reason: string) => new AppError('conflict', reason);
