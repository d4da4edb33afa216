import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, parseConfig, type Config, type ConfigOverrides } from '../config.js';
import { SecretBox } from '../crypto/secret-box.js';
import { loadSecretKey } from '../crypto/load-secret-key.js';
import { createStore } from '../store/create-store.js';
import { FINGERPRINT_META_KEY } from '../store/open-store.js';
import { DEFAULT_TENANT_ID } from '../tenants/tenant-service.js';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  /** A warning does not fail the run; a failed check does. */
  level: 'error' | 'warning';
  detail: string;
}

/** Every check runs, even after one fails, so the operator sees all problems at once. Read-only. */
export async function runDoctor(env: Record<string, string | undefined>, overrides: ConfigOverrides, cwd: string): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  let config: Config;
  try {
    config = parseConfig(env, overrides, cwd);
    checks.push({ name: 'config', ok: true, level: 'error', detail: 'environment and .env parsed' });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) checks.push({ name: 'config', ok: false, level: 'error', detail: problem });
    return checks;
  }

  let box: SecretBox | undefined;
  try {
    const loaded = loadSecretKey(config.secretKey, config.dataDir, { create: false });
    if (loaded) {
      box = new SecretBox(loaded.key);
      checks.push({ name: 'secret key', ok: true, level: 'error', detail: loaded.source === 'env' ? 'MW_SECRET_KEY is set' : `key file ${loaded.file}` });
      if (loaded.source !== 'env' && config.database.kind === 'postgres')
        checks.push({ name: 'secret key', ok: false, level: 'warning', detail: 'on PostgreSQL, set MW_SECRET_KEY explicitly so every replica uses the same key' });
    } else {
      checks.push({
        name: 'secret key',
        ok: false,
        level: 'error',
        detail: `MW_SECRET_KEY is unset and there is no ${path.join(config.dataDir, 'secret.key')}; \`meterwatch serve\` would generate one`,
      });
    }
  } catch (error) {
    checks.push({ name: 'secret key', ok: false, level: 'error', detail: (error as Error).message });
  }

  if (config.database.kind === 'sqlite' && !fs.existsSync(config.database.file)) {
    checks.push({ name: 'database', ok: false, level: 'error', detail: `SQLite file ${config.database.file} does not exist yet; run \`meterwatch migrate\`` });
    return checks;
  }
  const store = createStore(config.database);
  try {
    await store.ping();
    checks.push({ name: 'database', ok: true, level: 'error', detail: `${store.dialect} reachable` });
    const status = await store.migrationStatus();
    checks.push(
      status.pending.length === 0
        ? { name: 'migrations', ok: true, level: 'error', detail: `${status.applied.length} applied, none pending` }
        : { name: 'migrations', ok: false, level: 'error', detail: `pending: ${status.pending.join(', ')}; run \`meterwatch migrate\`` },
    );
    if (status.applied.length > 0) {
      const recorded = await store.getMeta(FINGERPRINT_META_KEY);
      if (box && recorded !== undefined && recorded !== box.fingerprint)
        checks.push({ name: 'secret key', ok: false, level: 'error', detail: 'the secret key does not match the one this database was set up with' });
      const tenant = await store.getTenant(DEFAULT_TENANT_ID);
      const hasSecret = config.stripeWebhookSecrets.length > 0 || (tenant?.webhookSecretsEnc ?? null) !== null;
      checks.push(
        hasSecret
          ? { name: 'webhook secret', ok: true, level: 'warning', detail: 'the default tenant can verify Stripe signatures' }
          : { name: 'webhook secret', ok: false, level: 'warning', detail: 'STRIPE_WEBHOOK_SECRET is not set: /webhooks/stripe refuses every delivery with 400' },
      );
    }
  } catch {
    checks.push({ name: 'database', ok: false, level: 'error', detail: `${config.database.kind} is not reachable` });
  } finally {
    await store.close().catch(() => {});
  }
  if (config.adminToken === undefined)
    checks.push({ name: 'admin token', ok: false, level: 'warning', detail: 'MW_ADMIN_TOKEN is not set: the tenant admin API is disabled' });
  return checks;
}
