import { AppError } from '../shared/app-error.js';

export const unknownDetector = (name: string) => new AppError('not_found', `No detector named "${name}"`);
export const invalidDetectorConfig = (name: string, problems: string[]) =>
  new AppError('validation_failed', `Invalid configuration for ${name}: ${problems.join('; ')}`, { problems });
export const incidentNotFound = () => new AppError('not_found', 'Anomaly not found');
export const incidentClosed = (status: string) => new AppError('conflict', `The anomaly is already ${status.replace('_', ' ')}`);
