import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export interface LoadedSecretKey {
  key: Buffer;
  source: 'env' | 'file' | 'generated';
  file?: string;
}

export const SECRET_KEY_FILE = 'secret.key';

/**
 * MW_SECRET_KEY when set; otherwise the key file in the data dir, created (mode 0600) on first use.
 * A generated key is fine for one machine, but every replica sharing a PostgreSQL database must be
 * given the same MW_SECRET_KEY: the caller warns about that.
 */
export function loadSecretKey(envKey: Buffer | undefined, dataDir: string, options: { create: boolean }): LoadedSecretKey | undefined {
  if (envKey) return { key: envKey, source: 'env' };
  const file = path.join(dataDir, SECRET_KEY_FILE);
  if (fs.existsSync(file)) {
    const text = fs.readFileSync(file, 'utf8').trim();
    if (!/^[0-9a-f]{64}$/i.test(text)) throw new Error(`${file} does not hold a 64-character hex key`);
    return { key: Buffer.from(text, 'hex'), source: 'file', file };
  }
  if (!options.create) return undefined;
  fs.mkdirSync(dataDir, { recursive: true });
  const key = randomBytes(32);
  fs.writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  return { key, source: 'generated', file };
}
