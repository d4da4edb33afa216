import { AppError } from '../shared/app-error.js';

export const invalidMapping = (problems: string[]) => new AppError('validation_failed', problems.join('; '), { problems });
export const mappingNotFound = () => new AppError('not_found', 'Mapping not found');
export const meterTaken = (eventName: string) =>
  new AppError('conflict', `An enabled mapping already pushes to the meter event "${eventName}": two would add their totals into one Stripe meter`);
export const stripeUnreachable = (what: string, cause: string) =>
  new AppError('stripe_unavailable', `Stripe could not be reached to ${what} (${cause}); try again`);
