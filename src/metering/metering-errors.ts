import { AppError } from '../shared/app-error.js';

export const invalidIngestBody = (message: string) => new AppError('validation_failed', message);
export const tooManyEvents = (max: number, got: number) =>
  new AppError('validation_failed', `A request carries 1 to ${max} events; got ${got}`, { maxEvents: max, events: got });
export const tenantsDisagree = () => new AppError('bad_request', 'The events name different tenants');
export const idempotencyHeaderMisuse = (message: string) => new AppError('bad_request', message);
export const invalidMeteringInput = (problems: string[]) => new AppError('validation_failed', problems.join('; '), { problems });
export const adjustmentNotFound = () => new AppError('not_found', 'Adjustment not found');
export const adjustmentNotPending = (status: string) => new AppError('conflict', `The adjustment is ${status}, not pending`);
export const adjustmentNotRevertable = (why: string) => new AppError('conflict', why);
export const importNotFound = () => new AppError('not_found', 'Import operation not found');
