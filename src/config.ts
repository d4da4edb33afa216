import path from 'node:path';

/**
 * The one typed configuration, parsed once at start. Every problem is collected and reported
 * together, so an operator fixes a broken deployment in one pass instead of one error per restart.
 */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export type DetectorMode = 'worker' | 'inline' | 'off';
const DETECTOR_MODES: readonly DetectorMode[] = ['worker', 'inline', 'off'];

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
    /**
     * Where the detectors run: `worker` (default) in a worker thread with its own store connection,
     * off the request thread; `inline` in the background loop of the request thread (what tests
     * driving `loop.tick()` with a frozen clock use); `off` not in this replica (intake only).
     */
    mode: DetectorMode;
    /**
     * Detector work per 250 ms while requests are in flight (idle, the detectors run at full speed).
     * 0 is the older spelling of `MW_DETECTOR_MODE=off`.
     */
    budgetMs: number;
    /**
     * Nice value of the detector worker thread (0–19, Linux): when cores are short, the scheduler
     * prefers the request thread and the detectors catch up after the burst.
     */
    threadNice: number;
    liveHorizonMs: number;
    resolveAfterMs: number;
    suppressForMs: number;
  };
  alerts: {
    /** `smtp://` or `smtps://` relay for email channels; without it email channels are refused. */
    smtpUrl: string | undefined;
    emailFrom: string | undefined;
    /** Lets alert targets resolve to loopback and private networks, for self-hosters' internal receivers. */
    allowPrivateTargets: boolean;
    /** One delivery attempt's limit (DNS, connect, response), in milliseconds. */
    timeoutMs: number;
  };
  metering: MeteringConfig;
  stripe: StripeConfig;
  backfill: BackfillConfig;
  reconciliation: {
    /** Drift above this many parts per million is reported (MW_DRIFT_EPSILON_PERCENT, default 0.5 %). */
    epsilonPpm: number;
    /** Scheduled reconciliation interval; 0 = only on demand. */
    intervalMs: number;
  };
  sync: SyncConfig;
}

/** Stripe history backfill and the scheduled gap-fill (see src/backfill/README.md). */
export interface BackfillConfig {
  /** How often each tenant's recent events are compared with what arrived by webhook; 0 turns gap-fill off. */
  gapfillIntervalMs: number;
  /** How far back each gap-fill looks. */
  gapfillLookbackMs: number;
  /** Failed attempts of one page (429, 5xx, network) before a job fails. */
  maxAttempts: number;
}

/** The usage push to Stripe Billing Meters (see src/sync/README.md). */
export interface SyncConfig {
  /** `MW_SYNC_INTERVAL_SECONDS`: one push cycle per interval. */
  intervalMs: number;
  /** `MW_SYNC_TRANSPORT`: v1 meter events (one per request) or v2 meter event streams (≤ 100 per request). */
  transport: 'v1' | 'v2';
  /** `MW_SYNC_CONCURRENCY`: Stripe calls in flight per Stripe account. */
  concurrency: number;
  /** `MW_SYNC_FAILING_CYCLES`: failing cycles in a row before a `usage_push_failing` incident. */
  failingAfter: number;
  /** `MW_SYNC_LOOKBACK_DAYS`: periods that ended longer ago are not compared (Stripe takes 35 days). */
  lookbackMs: number;
}

/** How the server reaches Stripe's API (see src/stripe/stripe-client.ts). */
export interface StripeConfig {
  /** `STRIPE_API_BASE`: every v1 and v2 call goes to this origin instead of api.stripe.com (a fake, a demo, a test server). */
  apiBase: { protocol: 'http' | 'https'; host: string; port: number } | undefined;
  /** One Stripe call's limit, in milliseconds. */
  timeoutMs: number;
  /** Retries the SDK makes on its own for 409/429/5xx and network errors. */
  maxNetworkRetries: number;
}

/** Usage ingest limits and the lateness rule (see src/metering/README.md). */
export interface MeteringConfig {
  /** Events per `POST /v1/events/ingest` (400 above). */
  maxEventsPerRequest: number;
  /** Ingest body limit in bytes (413 above). */
  maxBodyBytes: number;
  /** How far ahead of the server clock an event's ts may be. */
  maxFutureMs: number;
  metaMaxBytes: number;
  /** After a period's end, events still count in it for this long; later ones become adjustments. */
  latenessMs: number;
  /** Events per group-commit transaction. */
  groupMaxEvents: number;
  /** Concurrent ingest transactions; undefined = 1 on SQLite, 4 on PostgreSQL. */
  concurrency: number | undefined;
  /** Events allowed to wait for a commit before requests get 429. */
  maxQueuedEvents: number;
  /** How long a customer's period rule is cached (other replicas' changes arrive within it). */
  periodCacheMs: number;
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

  const budgetMs = parseInteger('MW_DETECTOR_BUDGET_MS', read('MW_DETECTOR_BUDGET_MS'), 100, 0, 250, problems);
  const detectors = {
    mode: parseDetectorMode(read('MW_DETECTOR_MODE'), budgetMs, problems),
    budgetMs,
    threadNice: parseInteger('MW_DETECTOR_NICE', read('MW_DETECTOR_NICE'), 10, 0, 19, problems),
    liveHorizonMs: parseInteger('MW_LIVE_HORIZON_MINUTES', read('MW_LIVE_HORIZON_MINUTES'), 60, 1, 7 * 24 * 60, problems) * 60_000,
    resolveAfterMs: parseInteger('MW_RESOLVE_AFTER_MINUTES', read('MW_RESOLVE_AFTER_MINUTES'), 60, 0, 7 * 24 * 60, problems) * 60_000,
    suppressForMs: parseInteger('MW_FALSE_POSITIVE_SUPPRESS_HOURS', read('MW_FALSE_POSITIVE_SUPPRESS_HOURS'), 168, 0, 24 * 365, problems) * 3_600_000,
  };

  const alerts = parseAlerts(read, problems);
  const metering = parseMetering(read, problems);
  const stripe = parseStripe(read, problems);
  const backfill: BackfillConfig = {
    gapfillIntervalMs: parseInteger('MW_GAPFILL_INTERVAL_MINUTES', read('MW_GAPFILL_INTERVAL_MINUTES'), 15, 0, 7 * 24 * 60, problems) * 60_000,
    gapfillLookbackMs: parseInteger('MW_GAPFILL_LOOKBACK_HOURS', read('MW_GAPFILL_LOOKBACK_HOURS'), 24, 1, 30 * 24, problems) * 3_600_000,
    maxAttempts: parseInteger('MW_BACKFILL_MAX_ATTEMPTS', read('MW_BACKFILL_MAX_ATTEMPTS'), 8, 1, 100, problems),
  };
  const reconciliation = {
    epsilonPpm: parsePercentPpm('MW_DRIFT_EPSILON_PERCENT', read('MW_DRIFT_EPSILON_PERCENT'), 5_000, problems),
    intervalMs: parseInteger('MW_RECONCILE_INTERVAL_MINUTES', read('MW_RECONCILE_INTERVAL_MINUTES'), 60, 0, 7 * 24 * 60, problems) * 60_000,
  };
  const sync = parseSync(read, problems);

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
    alerts,
    metering,
    stripe,
    backfill,
    reconciliation,
    sync,
  };
}

/** `MW_DETECTOR_BUDGET_MS=0` keeps its old meaning (intake only) as `off`; set beside a running mode it is a contradiction. */
function parseDetectorMode(raw: string | undefined, budgetMs: number, problems: string[]): DetectorMode {
  if (raw === undefined) return budgetMs === 0 ? 'off' : 'worker';
  const mode = raw.trim().toLowerCase();
  if (!DETECTOR_MODES.includes(mode as DetectorMode)) {
    problems.push(`MW_DETECTOR_MODE must be one of ${DETECTOR_MODES.join(', ')}, got "${raw}"`);
    return 'worker';
  }
  if (budgetMs === 0 && mode !== 'off') problems.push(`MW_DETECTOR_BUDGET_MS=0 means no detector work in this replica, but MW_DETECTOR_MODE is "${mode}": set MW_DETECTOR_MODE=off, or a budget above 0`);
  return mode as DetectorMode;
}

function parseSync(read: (name: string) => string | undefined, problems: string[]): SyncConfig {
  const transport = (read('MW_SYNC_TRANSPORT') ?? 'v1').toLowerCase();
  if (transport !== 'v1' && transport !== 'v2') problems.push(`MW_SYNC_TRANSPORT must be v1 or v2, got "${transport}"`);
  return {
    intervalMs: parseInteger('MW_SYNC_INTERVAL_SECONDS', read('MW_SYNC_INTERVAL_SECONDS'), 60, 1, 86_400, problems) * 1000,
    transport: transport === 'v2' ? 'v2' : 'v1',
    concurrency: parseInteger('MW_SYNC_CONCURRENCY', read('MW_SYNC_CONCURRENCY'), 4, 1, 64, problems),
    failingAfter: parseInteger('MW_SYNC_FAILING_CYCLES', read('MW_SYNC_FAILING_CYCLES'), 3, 1, 1000, problems),
    lookbackMs: parseInteger('MW_SYNC_LOOKBACK_DAYS', read('MW_SYNC_LOOKBACK_DAYS'), 70, 1, 3660, problems) * 86_400_000,
  };
}

/** "0.5" (percent) → 5000 ppm, exactly; up to 4 decimals, 0 < p ≤ 100. */
function parsePercentPpm(name: string, raw: string | undefined, fallback: number, problems: string[]): number {
  if (raw === undefined) return fallback;
  const m = /^(\d{1,3})(?:\.(\d{1,4}))?$/.exec(raw);
  const ppm = m ? Number(m[1]) * 10_000 + Number((m[2] ?? '').padEnd(4, '0')) : Number.NaN;
  if (!m || ppm <= 0 || ppm > 1_000_000) {
    problems.push(`${name} must be a percentage above 0 and at most 100 with up to 4 decimals (e.g. 0.5), got "${raw}"`);
    return fallback;
  }
  return ppm;
}

function parseStripe(read: (name: string) => string | undefined, problems: string[]): StripeConfig {
  const raw = read('STRIPE_API_BASE');
  let apiBase: StripeConfig['apiBase'];
  if (raw !== undefined) {
    try {
      const url = new URL(raw);
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '' || (url.pathname !== '/' && url.pathname !== '')) throw new Error('shape');
      const protocol = url.protocol === 'http:' ? 'http' : 'https';
      apiBase = { protocol, host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? (protocol === 'http' ? 80 : 443) : Number(url.port) };
    } catch {
      problems.push(`STRIPE_API_BASE must be an http(s) origin without a path, e.g. http://127.0.0.1:12111, got "${raw}"`);
    }
  }
  return {
    apiBase,
    timeoutMs: parseInteger('MW_STRIPE_TIMEOUT_MS', read('MW_STRIPE_TIMEOUT_MS'), 20_000, 100, 120_000, problems),
    maxNetworkRetries: parseInteger('MW_STRIPE_MAX_RETRIES', read('MW_STRIPE_MAX_RETRIES'), 2, 0, 10, problems),
  };
}

function parseMetering(read: (name: string) => string | undefined, problems: string[]): MeteringConfig {
  const concurrencyRaw = read('MW_INGEST_CONCURRENCY');
  return {
    maxEventsPerRequest: parseInteger('MW_INGEST_MAX_EVENTS', read('MW_INGEST_MAX_EVENTS'), 1000, 1, 100_000, problems),
    maxBodyBytes: parseInteger('MW_INGEST_MAX_BYTES', read('MW_INGEST_MAX_BYTES'), 1_048_576, 1024, 256 * 1_048_576, problems),
    maxFutureMs: parseInteger('MW_INGEST_MAX_FUTURE_SECONDS', read('MW_INGEST_MAX_FUTURE_SECONDS'), 300, 0, 86_400, problems) * 1000,
    metaMaxBytes: parseInteger('MW_INGEST_META_MAX_BYTES', read('MW_INGEST_META_MAX_BYTES'), 4096, 0, 1_048_576, problems),
    latenessMs: parseInteger('MW_LATENESS_HOURS', read('MW_LATENESS_HOURS'), 48, 0, 24 * 366, problems) * 3_600_000,
    groupMaxEvents: parseInteger('MW_INGEST_GROUP_MAX_EVENTS', read('MW_INGEST_GROUP_MAX_EVENTS'), 5000, 1, 100_000, problems),
    concurrency: concurrencyRaw === undefined ? undefined : parseInteger('MW_INGEST_CONCURRENCY', concurrencyRaw, 1, 1, 64, problems),
    maxQueuedEvents: parseInteger('MW_INGEST_QUEUE_MAX_EVENTS', read('MW_INGEST_QUEUE_MAX_EVENTS'), 200_000, 1, 10_000_000, problems),
    periodCacheMs: parseInteger('MW_PERIOD_CACHE_SECONDS', read('MW_PERIOD_CACHE_SECONDS'), 60, 0, 86_400, problems) * 1000,
  };
}

/** `Name <addr@host>` or a bare address: what nodemailer accepts as a From header. */
const EMAIL_FROM = /^(?:[^<>\r\n]{0,100}<[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)$/;

function parseAlerts(read: (name: string) => string | undefined, problems: string[]): Config['alerts'] {
  const smtpUrl = read('SMTP_URL');
  if (smtpUrl !== undefined) {
    let valid = false;
    try {
      const url = new URL(smtpUrl);
      valid = (url.protocol === 'smtp:' || url.protocol === 'smtps:') && url.hostname !== '';
    } catch {
      valid = false;
    }
    // The URL is not echoed: it usually carries the relay's password.
    if (!valid) problems.push('SMTP_URL must be an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587');
  }
  const emailFrom = read('ALERT_EMAIL_FROM');
  if (emailFrom !== undefined && !EMAIL_FROM.test(emailFrom)) problems.push(`ALERT_EMAIL_FROM must be an address or "Name <address>", got "${emailFrom}"`);
  if (smtpUrl !== undefined && emailFrom === undefined) problems.push('ALERT_EMAIL_FROM is required when SMTP_URL is set (the From address of alert emails)');
  if (smtpUrl === undefined && emailFrom !== undefined) problems.push('ALERT_EMAIL_FROM is set but SMTP_URL is not: email alerts need both');

  const allowRaw = (read('MW_ALLOW_PRIVATE_ALERT_TARGETS') ?? '0').toLowerCase();
  const allowPrivateTargets = ['1', 'true', 'yes'].includes(allowRaw);
  if (!allowPrivateTargets && !['0', 'false', 'no'].includes(allowRaw)) problems.push(`MW_ALLOW_PRIVATE_ALERT_TARGETS must be 1 or 0, got "${allowRaw}"`);

  return {
    smtpUrl,
    emailFrom,
    allowPrivateTargets,
    timeoutMs: parseInteger('MW_ALERT_TIMEOUT_MS', read('MW_ALERT_TIMEOUT_MS'), 10_000, 100, 60_000, problems),
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
