import type { DatabaseConfig } from '../config.js';
import type { KyselyStore } from './kysely-store.js';
import { createPostgresStore } from './postgres/create-postgres-store.js';
import { createSqliteStore } from './sqlite/create-sqlite-store.js';

export interface CreateStoreOptions {
  /** SQLite: the detector worker hosts the WAL checkpoints (create-sqlite-store.ts). */
  hostedCheckpoints?: boolean;
}

export function createStore(database: DatabaseConfig, onError?: (operation: string, error: unknown) => void, options: CreateStoreOptions = {}): KyselyStore {
  const extra = onError ? { onError } : {};
  return database.kind === 'postgres'
    ? createPostgresStore({ url: database.url, ...extra })
    : createSqliteStore({ file: database.file, ...extra, ...(options.hostedCheckpoints ? { hostedCheckpoints: true } : {}) });
}
