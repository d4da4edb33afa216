import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

const CWD = path.resolve('/srv/meterwatch');

/** parseConfig must throw a ConfigError; returns it for inspection. */
function configError(env: Record<string, string | undefined>, overrides = {}): ConfigError {
  try {
    parseConfig(env, overrides, CWD);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected parseConfig to throw a ConfigError');
}

describe('parseConfig defaults', () => {
  it('runs on embedded SQLite in ./data, on 127.0.0.1:8080, with nothing set', () => {
    const config = parseConfig({}, {}, CWD);
    expect(config.dataDir).toBe(path.join(CWD, 'data'));
    expect(config.database).toEqual({ kind: 'sqlite', file: path.join(CWD, 'data', 'meterwatch.db') });
    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(config.publicUrl).toBe('http://127.0.0.1:8080');
    expect(config.logLevel).toBe('info');
    expect(config.stripeWebhookSecrets).toEqual([]);
    expect(config.adminToken).toBeUndefined();
    expect(config.secretKey).toBeUndefined();
    expect(config.webhook).toEqual({ maxBodyBytes: 1_048_576, toleranceSeconds: 300, ratePerSecond: 2000, burst: 10_000 });
  });

  it('treats blank variables as unset', () => {
    const config = parseConfig({ PORT: '', HOST: '  ', DATABASE_URL: '', LOG_LEVEL: ' ', MW_SECRET_KEY: '' }, {}, CWD);
    expect(config.port).toBe(8080);
    expect(config.host).toBe('127.0.0.1');
    expect(config.database.kind).toBe('sqlite');
    expect(config.logLevel).toBe('info');
  });

  it('puts the default SQLite file in MW_DATA_DIR, resolved against the working directory', () => {
    const config = parseConfig({ MW_DATA_DIR: 'var/mw' }, {}, CWD);
    expect(config.dataDir).toBe(path.join(CWD, 'var', 'mw'));
    expect(config.database).toEqual({ kind: 'sqlite', file: path.join(CWD, 'var', 'mw', 'meterwatch.db') });
  });

  it('lets command-line overrides win over the environment', () => {
    const config = parseConfig(
      { PORT: '9000', HOST: '10.0.0.1', MW_DATA_DIR: '/env/dir', DATABASE_URL: 'postgres://env@db/x' },
      { port: '0', host: '0.0.0.0', dataDir: '/flag/dir', databaseUrl: 'sqlite:/flag/dir/x.db' },
      CWD,
    );
    expect(config.port).toBe(0);
    expect(config.host).toBe('0.0.0.0');
    expect(config.dataDir).toBe(path.resolve('/flag/dir'));
    expect(config.database).toEqual({ kind: 'sqlite', file: path.resolve('/flag/dir/x.db') });
    // A wildcard listen address is not a URL anyone can call: the public URL says localhost.
    expect(config.publicUrl).toBe('http://localhost:0');
  });

  it('reads PORT, HOST, LOG_LEVEL (any case), MW_ADMIN_TOKEN and MW_PUBLIC_URL (trailing slash dropped)', () => {
    const config = parseConfig(
      { PORT: '3000', HOST: '::', LOG_LEVEL: 'DEBUG', MW_ADMIN_TOKEN: 'a'.repeat(32), MW_PUBLIC_URL: 'https://mw.example.com/' },
      {},
      CWD,
    );
    expect(config.port).toBe(3000);
    expect(config.host).toBe('::');
    expect(config.logLevel).toBe('debug');
    expect(config.adminToken).toBe('a'.repeat(32));
    expect(config.publicUrl).toBe('https://mw.example.com');
  });
});

describe('parseConfig DATABASE_URL', () => {
  it('accepts postgres:// and postgresql:// URLs as PostgreSQL', () => {
    const url = 'postgres://mw:s3cret@db.internal:5432/meterwatch?sslmode=require';
    expect(parseConfig({ DATABASE_URL: url }, {}, CWD).database).toEqual({ kind: 'postgres', url });
    const url2 = 'postgresql://mw@127.0.0.1/meterwatch';
    expect(parseConfig({ DATABASE_URL: url2 }, {}, CWD).database).toEqual({ kind: 'postgres', url: url2 });
  });

  it('accepts sqlite: URLs, relative to the working directory or absolute', () => {
    expect(parseConfig({ DATABASE_URL: 'sqlite:./db/mw.sqlite' }, {}, CWD).database).toEqual({
      kind: 'sqlite',
      file: path.join(CWD, 'db', 'mw.sqlite'),
    });
    expect(parseConfig({ DATABASE_URL: 'sqlite:///var/lib/mw.db' }, {}, CWD).database).toEqual({
      kind: 'sqlite',
      file: path.resolve('/var/lib/mw.db'),
    });
    expect(parseConfig({ DATABASE_URL: 'sqlite://mw.db' }, {}, CWD).database).toEqual({
      kind: 'sqlite',
      file: path.join(CWD, 'mw.db'),
    });
  });

  it('rejects an empty sqlite: path and an unparseable postgres URL without echoing it', () => {
    expect(configError({ DATABASE_URL: 'sqlite:' }).problems).toEqual([expect.stringMatching(/sqlite: needs a file path/)]);
    const bad = 'postgres://mw:hunter2-password@[not-an-ip/db';
    const error = configError({ DATABASE_URL: bad });
    expect(error.problems).toEqual([expect.stringMatching(/not a valid postgres:\/\/ URL/)]);
    expect(error.message).not.toContain('hunter2');
  });
});

describe('parseConfig MW_SECRET_KEY', () => {
  const raw = randomBytes(32);

  it('accepts 64 hex characters (either case)', () => {
    expect(parseConfig({ MW_SECRET_KEY: raw.toString('hex') }, {}, CWD).secretKey).toEqual(raw);
    expect(parseConfig({ MW_SECRET_KEY: raw.toString('hex').toUpperCase() }, {}, CWD).secretKey).toEqual(raw);
  });

  it('accepts base64, padded or not, and base64url', () => {
    expect(parseConfig({ MW_SECRET_KEY: raw.toString('base64') }, {}, CWD).secretKey).toEqual(raw);
    expect(parseConfig({ MW_SECRET_KEY: raw.toString('base64').replace(/=+$/, '') }, {}, CWD).secretKey).toEqual(raw);
    // A key with both URL-safe characters in it, so the base64url branch really decodes it.
    const urlSafe = Buffer.from(Array.from({ length: 32 }, (_, i) => (i % 2 === 0 ? 0xfb : 0xff)));
    expect(urlSafe.toString('base64url')).toMatch(/[-_]/);
    expect(parseConfig({ MW_SECRET_KEY: urlSafe.toString('base64url') }, {}, CWD).secretKey).toEqual(urlSafe);
  });

  it.each([
    ['too short hex', randomBytes(31).toString('hex')],
    ['too long hex', randomBytes(33).toString('hex')],
    ['16-byte base64', randomBytes(16).toString('base64')],
    ['not an encoding', 'correct horse battery staple correct horse!!'],
  ])('rejects %s without echoing it', (_label, value) => {
    const error = configError({ MW_SECRET_KEY: value });
    expect(error.problems).toEqual([expect.stringMatching(/^MW_SECRET_KEY must be 32 bytes/)]);
    expect(error.message).not.toContain(value);
  });
});

describe('parseConfig STRIPE_WEBHOOK_SECRET', () => {
  it('splits a comma-separated list for rotation, ignoring blanks and spaces', () => {
    const config = parseConfig({ STRIPE_WEBHOOK_SECRET: ' whsec_new123456, whsec_old654321 ,, ' }, {}, CWD);
    expect(config.stripeWebhookSecrets).toEqual(['whsec_new123456', 'whsec_old654321']);
  });

  it('reports a bad entry by position, never by value', () => {
    const error = configError({ STRIPE_WEBHOOK_SECRET: 'whsec_good12345,sk_live_oops_this_is_a_key' });
    expect(error.problems).toEqual(['STRIPE_WEBHOOK_SECRET entry 2 must start with "whsec_"']);
    expect(error.message).not.toContain('sk_live_oops');
    expect(error.message).not.toContain('whsec_good12345');
  });
});

describe('parseConfig reports every problem at once', () => {
  it('lists all six problems in ONE ConfigError, without any secret value in it', () => {
    const secrets = {
      MW_SECRET_KEY: 'not-a-key-but-still-a-secret-value',
      MW_ADMIN_TOKEN: 'tooShortAdmin42',
      STRIPE_WEBHOOK_SECRET: 'sk_test_definitelyNotWhsec987',
      DATABASE_URL: 'mysql://root:Pa55word-do-not-print@db.internal/meterwatch',
    };
    const error = configError({ ...secrets, PORT: 'eighty', LOG_LEVEL: 'verbose' });

    expect(error.name).toBe('ConfigError');
    expect(error.problems).toHaveLength(6);
    const expected = [
      /^PORT must be a whole number between 0 and 65535, got "eighty"$/,
      /^LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"$/,
      /^MW_SECRET_KEY must be 32 bytes/,
      /^MW_ADMIN_TOKEN must be at least 24 characters/,
      /^STRIPE_WEBHOOK_SECRET entry 1 must start with "whsec_"$/,
      /^DATABASE_URL must start with postgres:\/\/, postgresql:\/\/ or sqlite:/,
    ];
    for (const pattern of expected) {
      expect(error.problems.filter((p) => pattern.test(p)), String(pattern)).toHaveLength(1);
    }
    // The message is the whole list, one problem per line, so one restart fixes everything.
    const lines = error.message.split('\n');
    expect(lines[0]).toBe('Invalid configuration:');
    expect(lines.slice(1)).toEqual(error.problems.map((p) => `  - ${p}`));

    const everything = `${error.message}\n${error.problems.join('\n')}\n${String(error.stack)}`;
    for (const [name, value] of Object.entries(secrets)) expect(everything, name).not.toContain(value);
    expect(everything).not.toContain('Pa55word');
  });

  it('reports out-of-range numbers, including the command-line port', () => {
    expect(configError({ PORT: '70000' }).problems).toEqual(['PORT must be between 0 and 65535, got 70000']);
    expect(configError({}, { port: '-1' }).problems).toEqual([expect.stringMatching(/^PORT must be a whole number/)]);
    const error = configError({ MW_WEBHOOK_MAX_BYTES: '10', MW_SHUTDOWN_TIMEOUT_MS: 'soon', MW_PUBLIC_URL: 'mw.example.com' });
    expect(error.problems).toHaveLength(3);
    expect(error.problems.join('\n')).toMatch(/MW_WEBHOOK_MAX_BYTES must be between 1024/);
    expect(error.problems.join('\n')).toMatch(/MW_SHUTDOWN_TIMEOUT_MS must be a whole number/);
    expect(error.problems.join('\n')).toMatch(/MW_PUBLIC_URL must be an http\(s\) URL/);
  });

  it('accepts an admin token of exactly 24 characters', () => {
    expect(parseConfig({ MW_ADMIN_TOKEN: 'x'.repeat(24) }, {}, CWD).adminToken).toBe('x'.repeat(24));
    expect(configError({ MW_ADMIN_TOKEN: 'x'.repeat(23) }).problems).toHaveLength(1);
  });
});

describe('parseConfig MW_DETECTOR_MODE', () => {
  it('runs the detectors in a worker thread by default, with 100 ms of work per 250 ms under load', () => {
    expect(parseConfig({}, {}, CWD).detectors).toMatchObject({ mode: 'worker', budgetMs: 100 });
  });

  it('accepts worker, inline and off (any case)', () => {
    expect(parseConfig({ MW_DETECTOR_MODE: 'inline' }, {}, CWD).detectors.mode).toBe('inline');
    expect(parseConfig({ MW_DETECTOR_MODE: 'OFF' }, {}, CWD).detectors.mode).toBe('off');
    expect(parseConfig({ MW_DETECTOR_MODE: 'worker', MW_DETECTOR_BUDGET_MS: '40' }, {}, CWD).detectors).toMatchObject({ mode: 'worker', budgetMs: 40 });
  });

  it('runs the detector thread at nice 10 unless MW_DETECTOR_NICE says otherwise (0–19)', () => {
    expect(parseConfig({}, {}, CWD).detectors.threadNice).toBe(10);
    expect(parseConfig({ MW_DETECTOR_NICE: '0' }, {}, CWD).detectors.threadNice).toBe(0);
    expect(parseConfig({ MW_DETECTOR_NICE: '19' }, {}, CWD).detectors.threadNice).toBe(19);
    expect(configError({ MW_DETECTOR_NICE: '20' }).problems).toEqual([expect.stringMatching(/^MW_DETECTOR_NICE/)]);
    expect(configError({ MW_DETECTOR_NICE: '-5' }).problems).toEqual([expect.stringMatching(/^MW_DETECTOR_NICE/)]);
  });

  it('keeps MW_DETECTOR_BUDGET_MS=0 meaning intake only (off), alone or with MW_DETECTOR_MODE=off', () => {
    expect(parseConfig({ MW_DETECTOR_BUDGET_MS: '0' }, {}, CWD).detectors.mode).toBe('off');
    expect(parseConfig({ MW_DETECTOR_BUDGET_MS: '0', MW_DETECTOR_MODE: 'off' }, {}, CWD).detectors.mode).toBe('off');
  });

  it('reports an unknown mode and a zero budget beside a running mode, with the other problems', () => {
    expect(configError({ MW_DETECTOR_MODE: 'thread', PORT: 'x' }).problems).toEqual([
      expect.stringMatching(/^PORT must be a whole number/),
      'MW_DETECTOR_MODE must be one of worker, inline, off, got "thread"',
    ]);
    expect(configError({ MW_DETECTOR_MODE: 'worker', MW_DETECTOR_BUDGET_MS: '0' }).problems).toEqual([expect.stringMatching(/^MW_DETECTOR_BUDGET_MS=0 means no detector work/)]);
  });
});
