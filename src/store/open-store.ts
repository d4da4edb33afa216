import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { SecretBox } from '../crypto/secret-box.js';
import { loadSecretKey } from '../crypto/load-secret-key.js';
import type { Metrics } from '../ops/metrics.js';
import { createStore, type CreateStoreOptions } from './create-store.js';
import type { KyselyStore } from './kysely-store.js';

export const FINGERPRINT_META_KEY = 'secret_key_fingerprint';

export interface OpenedStore {
  store: KyselyStore;
  box: SecretBox;
}

/**
 * Store + secret key, checked against each other: the first start records the key's fingerprint,
 * and every later start with a different key refuses to run rather than write secrets nobody can
 * read back.
 */
export async function openStore(config: Config, logger: Logger, options: { migrate: boolean; metrics?: Metrics } & CreateStoreOptions): Promise<OpenedStore> {
  const loaded = loadSecretKey(config.secretKey, config.dataDir, { create: true });
  if (!loaded) throw new Error('no secret key');
  if (loaded.source === 'generated') {
    logger.warn(
      { file: loaded.file },
      config.database.kind === 'postgres'
        ? 'MW_SECRET_KEY is not set: generated a key file in the data dir. Every replica sharing this PostgreSQL database needs the SAME key: set MW_SECRET_KEY to its contents on all of them.'
        : 'MW_SECRET_KEY is not set: generated a key file in the data dir. Back it up: secrets stored in the database cannot be read without it.',
    );
  }
  const box = new SecretBox(loaded.key);
  const metrics = options.metrics;
  const store = createStore(config.database, (operation, error) => {
    metrics?.storeErrors.inc({ operation });
    logger.debug({ operation, err: error }, 'store operation failed');
  }, options.hostedCheckpoints ? { hostedCheckpoints: true } : {});
  try {
    if (options.migrate) {
      const applied = await store.migrate();
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    }
    await checkFingerprint(store, box);
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return { store, box };
}

async function checkFingerprint(store: KyselyStore, box: SecretBox): Promise<void> {
  const status = await store.migrationStatus();
  if (status.applied.length === 0) return; // nothing to compare against before the first migration
  if (await store.putMetaIfAbsent(FINGERPRINT_META_KEY, box.fingerprint)) return;
  const recorded = await store.getMeta(FINGERPRINT_META_KEY);
  if (recorded !== box.fingerprint) {
    throw new SecretKeyMismatchError();
  }
}

export class SecretKeyMismatchError extends Error {
  constructor() {
    super('MW_SECRET_KEY (or the data dir key file) is not the key this database was set up with; refusing to start. Restore the original key.');
    this.name = 'SecretKeyMismatchError';
  }
}
