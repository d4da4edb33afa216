import { AppError } from '../shared/app-error.js';

export const tenantNotFound = () => new AppError('not_found', 'Tenant not found');
export const tenantNameTaken = (name: string) => new AppError('conflict', `A tenant named "${name}" already exists`);
export const invalidTenantInput = (problems: string[]) =>
  new AppError('validation_failed', problems.join('; '), { problems });
