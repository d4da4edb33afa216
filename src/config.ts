import path from 'node:path';

/**
 * The one typed configuration, parsed once at start. Every problem is collected and reported
 * together, so an operator fixes a broken deployment in one pass instead of one error per restart.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type DatabaseConfig =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string };

export interface Config {
  dataDir: string;
  database: DatabaseConfig;
  port: number;
  host: string;
  publicUrl: string;
  /** Secrets for the default tenant's `/webhooks/stripe`; several are allowed during rotation. */
  stripeWebhookSecrets: string[];
  adminToken: string | undefined;
  /** 32 raw bytes, or undefined: then the key file in the data dir is used or created. */
  secretKey: Buffer | undefined;
  logLevel: LogLevel;
  webhook: {
    maxBodyBytes: number;
    toleranceSeconds: number;
    ratePerSecond: number;
    burst: number;
  };
  shutdownTimeoutMs: number;
  detectors: {
    /** Detector work allowed per 250 ms background tick; 0 runs no detectors in this process (an intake-only replica). */
    budgetMs: number;
    liveHorizonMs: number;
    resolveAfterMs: number;
    suppressForMs: number;
  };
}

export interface ConfigOverrides {
  port?: string | number;
  host?: string;
  dataDir?: string;
  databaseUrl?: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Env = Record<string, string | undefined>;

export function parseConfig(env: Env, overrides: ConfigOverrides = {}, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === '' ? undefined : v.trim();
  };

  const dataDir = path.resolve(cwd, overrides.dataDir ?? read('MW_DATA_DIR') ?? 'data');
  const port = parseInteger('PORT', overrides.port ?? read('PORT'), 8080, 0, 65535, problems);
  const host = overrides.host ?? read('HOST') ?? '127.0.0.1';
  const database = parseDatabase(overrides.databaseUrl ?? read('DATABASE_URL'), dataDir, cwd, problems);

  const publicUrlRaw = read('MW_PUBLIC_URL') ?? `http://${host === '0.0.0.0' || host === '::' ? 'localhost' : host}:${port}`;
  let publicUrl = publicUrlRaw.replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(publicUrl)) {
    problems.push(`MW_PUBLIC_URL must be an http(s) URL, got "${publicUrlRaw}"`);
    publicUrl = 'http://localhost';
  }

  const stripeWebhookSecrets = (read('STRIPE_WEBHOOK_SECRET') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const [i, s] of stripeWebhookSecrets.entries()) {
    // Only the position is reported: the value is a secret.
    if (!s.startsWith('whsec_')) problems.push(`STRIPE_WEBHOOK_SECRET entry ${i + 1} must start with "whsec_"`);
  }

  const adminToken = read('MW_ADMIN_TOKEN');
  if (adminToken !== undefined && adminToken.length < 24) {
    problems.push('MW_ADMIN_TOKEN must be at least 24 characters (use e.g. `openssl rand -hex 32`)');
  }

  const secretKey = parseSecretKey(read('MW_SECRET_KEY'), problems);

  const logLevelRaw = (read('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!LOG_LEVELS.includes(logLevelRaw as LogLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevelRaw}"`);
  }

  const webhook = {
    maxBodyBytes: parseInteger('MW_WEBHOOK_MAX_BYTES', read('MW_WEBHOOK_MAX_BYTES'), 1_048_576, 1024, 64 * 1_048_576, problems),
    toleranceSeconds: parseInteger('MW_WEBHOOK_TOLERANCE_SECONDS', read('MW_WEBHOOK_TOLERANCE_SECONDS'), 300, 1, 86_400, problems),
    ratePerSecond: parseInteger('MW_WEBHOOK_RATE_PER_SECOND', read('MW_WEBHOOK_RATE_PER_SECOND'), 2000, 1, 10_000_000, problems),
    burst: parseInteger('MW_WEBHOOK_BURST', read('MW_WEBHOOK_BURST'), 10_000, 1, 100_000_000, problems),
  };
  const shutdownTimeoutMs = parseInteger('MW_SHUTDOWN_TIMEOUT_MS', read('MW_SHUTDOWN_TIMEOUT_MS'), 10_000, 0, 600_000, problems);

  const detectors = {
    budgetMs: parseInteger('MW_DETECTOR_BUDGET_MS', read('MW_DETECTOR_BUDGET_MS'), 100, 0, 250, problems),
    liveHorizonMs: parseInteger('MW_LIVE_HORIZON_MINUTES', read('MW_LIVE_HORIZON_MINUTES'), 60, 1, 7 * 24 * 60, problems) * 60_000,
    resolveAfterMs: parseInteger('MW_RESOLVE_AFTER_MINUTES', read('MW_RESOLVE_AFTER_MINUTES'), 60, 0, 7 * 24 * 60, problems) * 60_000,
    suppressForMs: parseInteger('MW_FALSE_POSITIVE_SUPPRESS_HOURS', read('MW_FALSE_POSITIVE_SUPPRESS_HOURS'), 168, 0, 24 * 365, problems) * 3_600_000,
  };

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    dataDir,
    database,
    port,
    host,
    publicUrl,
    stripeWebhookSecrets,
    adminToken,
    secretKey,
    logLevel: logLevelRaw as LogLevel,
    webhook,
    shutdownTimeoutMs,
    detectors,
  };
}

function parseInteger(
  name: string,
  raw: string | number | undefined,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  if (raw === undefined) return fallback;
  const text = String(raw).trim();
  if (!/^\d+$/.test(text)) {
    problems.push(`${name} must be a whole number between ${min} and ${max}, got "${text}"`);
    return fallback;
  }
  const value = Number(text);
  if (value < min || value > max) {
    problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
    return fallback;
  }
  return value;
}

function parseDatabase(raw: string | undefined, dataDir: string, cwd: string, problems: string[]): DatabaseConfig {
  if (raw === undefined) return { kind: 'sqlite', file: path.join(dataDir, 'meterwatch.db') };
  if (/^postgres(ql)?:\/\//.test(raw)) {
    try {
      new URL(raw);
    } catch {
      problems.push('DATABASE_URL is not a valid postgres:// URL');
    }
    return { kind: 'postgres', url: raw };
  }
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (file === '') problems.push('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/meterwatch.db');
    return { kind: 'sqlite', file: path.resolve(cwd, file || 'meterwatch.db') };
  }
  problems.push('DATABASE_URL must start with postgres://, postgresql:// or sqlite: (leave it unset for the embedded SQLite default)');
  return { kind: 'sqlite', file: path.join(dataDir, 'meterwatch.db') };
}

function parseSecretKey(raw: string | undefined, problems: string[]): Buffer | undefined {
  if (raw === undefined) return undefined;
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(raw)) key = Buffer.from(raw, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(raw)) key = Buffer.from(raw, raw.includes('-') || raw.includes('_') ? 'base64url' : 'base64');
  if (!key || key.length !== 32) {
    problems.push('MW_SECRET_KEY must be 32 bytes, as 64 hex characters or base64 (e.g. `openssl rand -hex 32`)');
    return undefined;
  }
  return key;
}
