import { AppError } from '../shared/app-error.js';

/**
 * Any failure to read or write the database. Callers answer 503, so Stripe and SDK clients retry;
 * every write path is idempotent, which makes the retry safe. The cause is kept for the log only.
 */
export class StoreUnavailableError extends AppError {
  constructor(readonly operation: string, cause: unknown) {
    super('store_unavailable', 'The database is unavailable; retry later');
    this.cause = cause;
  }
}
