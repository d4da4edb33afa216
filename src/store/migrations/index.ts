import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from '../store.js';
import { foundationMigration } from './0001-foundation.js';
import { detectorsMigration } from './0002-detectors.js';
import { alertsMigration } from './0003-alerts.js';
import { meteringMigration } from './0004-metering.js';
import { pricingMigration } from './0005-pricing.js';
import { syncMigration } from './0006-sync.js';
import { jobsMigration } from './0007-jobs.js';
import { reconciliationMigration } from './0008-reconciliation.js';
import { eventKeysCoverMigration } from './0009-event-keys-cover.js';

/** Migrations live in the repo, ordered by name; each takes the dialect where SQL differs. */
export function migrationProvider(dialect: StoreDialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '0001-foundation': foundationMigration(dialect),
        '0002-detectors': detectorsMigration(),
        '0003-alerts': alertsMigration(),
        '0004-metering': meteringMigration(dialect),
        '0005-pricing': pricingMigration(),
        '0006-sync': syncMigration(),
        '0007-jobs': jobsMigration(),
        '0008-reconciliation': reconciliationMigration(),
        '0009-event-keys-cover': eventKeysCoverMigration(),
      };
    },
  };
}
