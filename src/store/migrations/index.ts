import type { Migration, MigrationProvider } from 'kysely';
import type { StoreDialect } from '../store.js';
import { foundationMigration } from './0001-foundation.js';
import { detectorsMigration } from './0002-detectors.js';

/** Migrations live in the repo, ordered by name; each takes the dialect where SQL differs. */
export function migrationProvider(dialect: StoreDialect): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      return {
        '0001-foundation': foundationMigration(dialect),
        '0002-detectors': detectorsMigration(),
      };
    },
  };
}
