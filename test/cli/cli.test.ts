import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { withCliServices } from '../../src/cli/open-cli-services.js';
import { DIALECTS, dialectEnabled, freshDatabase, type FreshDatabase } from '../support/dialects.js';
import { scratchDirs } from '../support/scratch-dirs.js';
import { startTestApp } from '../support/test-app.js';

/**
 * The `meterwatch` CLI in-process, through `runCli` with an injected io, against both stores.
 * Every command opens the real store from DATABASE_URL, exactly as the binary does.
 */

type Env = Record<string, string | undefined>;

const tempDir = scratchDirs();

interface CliRun {
  code: number;
  out: string;
  err: string;
  /** Each `io.err` call separately: a config error must be ONE message, not one per problem. */
  errCalls: string[];
}

async function cli(argv: string[], env: Env, options: { cwd?: string; stdin?: string } = {}): Promise<CliRun> {
  const outLines: string[] = [];
  const errCalls: string[] = [];
  let stdinReads = 0;
  const io: CliIo = {
    env,
    cwd: options.cwd ?? String(env.MW_DATA_DIR ?? tempDir('mw-cli-cwd-')),
    out: (line) => outLines.push(line),
    err: (line) => errCalls.push(line),
    readStdin: async () => {
      stdinReads += 1;
      if (options.stdin === undefined) throw new Error(`unexpected stdin read by: ${argv.join(' ')}`);
      return options.stdin;
    },
  };
  const code = await runCli(argv, io);
  if (options.stdin !== undefined) expect(stdinReads, 'stdin read once').toBe(1);
  return { code, out: outLines.join('\n'), err: errCalls.join('\n'), errCalls };
}

/** Parses the single JSON document a `--json` command prints. */
function json<T>(run: CliRun): T {
  expect(run, run.err).toMatchObject({ code: 0 });
  return JSON.parse(run.out) as T;
}

const STACK_FRAME = /\n\s+at\s/;
const SECRET_KEY = randomBytes(32).toString('hex');
const OTHER_SECRET_KEY = randomBytes(32).toString('hex');
const ADMIN_TOKEN = 'cli-admin-token-0123456789abcdef';
const WHSEC_A = 'whsec_cliSecretA0123456789';
const WHSEC_B = 'whsec_cliSecretB0123456789';
const WHSEC_C = 'whsec_cliSecretC0123456789';
const WHSEC_D = 'whsec_cliSecretD0123456789';

interface TenantJson {
  id: string;
  name: string;
  webhookToken: string;
  webhookUrl: string;
  apiKey: string;
  apiKeyId: string;
}
interface TenantViewJson {
  id: string;
  name: string;
  webhookUrl: string;
  webhookSecretsActive: number;
}
interface KeyJson {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: string[];
  revokedAt: string | null;
  key?: string;
}

const enabled = new Map(await Promise.all(DIALECTS.map(async (d) => [d, await dialectEnabled(d)] as const)));

for (const dialect of DIALECTS) {
  describe.skipIf(!enabled.get(dialect))(`meterwatch CLI on ${dialect}`, () => {
    let db: FreshDatabase;
    let env: Env;

    beforeEach(async () => {
      db = await freshDatabase(dialect);
      env = { DATABASE_URL: db.databaseUrl, MW_DATA_DIR: db.dataDir, MW_SECRET_KEY: SECRET_KEY, LOG_LEVEL: 'silent' };
    });
    afterEach(async () => {
      await db.cleanup();
    });

    /** The decrypted active signing secrets of a tenant, read through the same services the CLI uses. */
    async function activeSecrets(webhookToken: string): Promise<string[] | undefined> {
      const io: CliIo = { env, cwd: db.dataDir, out: () => {}, err: () => {}, readStdin: async () => '' };
      return withCliServices(io, {}, async ({ tenants }) => (await tenants.webhookTargetByToken(webhookToken))?.secrets);
    }

    async function createTenant(name: string, extra: string[] = []): Promise<TenantJson> {
      return json<TenantJson>(await cli(['tenant', 'create', name, ...extra, '--json'], env));
    }

    describe('migrate', () => {
      it('applies the migrations once, then says they are current', async () => {
        const first = await cli(['migrate'], env);
        expect(first).toMatchObject({ code: 0, err: '' });
        expect(first.out).toMatch(/^Applied: 0001-foundation/);

        const second = await cli(['migrate'], env);
        expect(second).toMatchObject({ code: 0, err: '', out: 'Migrations are current.' });
      });

      it('generates the secret key file (mode 0600) when MW_SECRET_KEY is not set', async () => {
        const run = await cli(['migrate'], { ...env, MW_SECRET_KEY: undefined });
        expect(run.code, run.err).toBe(0);
        const keyFile = path.join(db.dataDir, 'secret.key');
        expect(fs.readFileSync(keyFile, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
        expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
      });
    });

    describe('doctor', () => {
      it('reports everything ok after migrate with a key, and exits 0', async () => {
        expect((await cli(['migrate'], env)).code).toBe(0);
        const run = await cli(['doctor'], { ...env, STRIPE_WEBHOOK_SECRET: WHSEC_A, MW_ADMIN_TOKEN: ADMIN_TOKEN });
        expect(run.code, run.out).toBe(0);
        const lines = run.out.split('\n');
        expect(lines).toEqual(
          expect.arrayContaining([
            'ok    config: environment and .env parsed',
            'ok    secret key: MW_SECRET_KEY is set',
            `ok    database: ${dialect} reachable`,
            expect.stringMatching(/^ok {4}migrations: \d+ applied, none pending$/),
            expect.stringMatching(/^ok {4}webhook secret: /),
          ]),
        );
        expect(run.out).not.toMatch(/^(FAIL|warn)/m);
        expect(lines.at(-1)).toBe('No problems found.');
        // Secrets are checked, never printed.
        expect(run.out).not.toContain(SECRET_KEY);
        expect(run.out).not.toContain(WHSEC_A);
        expect(run.out).not.toContain(ADMIN_TOKEN);
      });

      it('warns (without failing) about an unset webhook secret and admin token', async () => {
        expect((await cli(['migrate'], env)).code).toBe(0);
        const run = await cli(['doctor'], env);
        expect(run.code, run.out).toBe(0);
        expect(run.out).toMatch(/^warn {2}webhook secret: STRIPE_WEBHOOK_SECRET is not set/m);
        expect(run.out).toMatch(/^warn {2}admin token: MW_ADMIN_TOKEN is not set/m);
        expect(run.out).toMatch(/No problems found\.$/);
      });

      it('reports a missing secret key (unset MW_SECRET_KEY, no key file) as a failure', async () => {
        expect((await cli(['migrate'], env)).code).toBe(0); // with MW_SECRET_KEY: no key file is written
        expect(fs.existsSync(path.join(db.dataDir, 'secret.key'))).toBe(false);

        const run = await cli(['doctor'], { ...env, MW_SECRET_KEY: undefined });
        expect(run.code).toBe(1);
        expect(run.out).toMatch(/^FAIL {2}secret key: MW_SECRET_KEY is unset and there is no .*secret\.key/m);
        expect(run.out).toMatch(new RegExp(`^ok {4}database: ${dialect} reachable$`, 'm'));
        expect(run.out).toMatch(/1 problem\(s\) found\.$/);
      });

      it('lists every problem at once (no key, database not migrated) and exits 1, creating nothing', async () => {
        const run = await cli(['doctor'], { ...env, MW_SECRET_KEY: undefined });
        expect(run.code).toBe(1);
        expect(run.err).toBe('');
        const failures = run.out.split('\n').filter((l) => l.startsWith('FAIL'));
        expect(failures).toHaveLength(2);
        expect(failures[0]).toMatch(/^FAIL {2}secret key: /);
        expect(failures[1]).toMatch(dialect === 'sqlite' ? /^FAIL {2}database: SQLite file .* does not exist yet/ : /^FAIL {2}migrations: pending: 0001-foundation/);
        expect(run.out).toMatch(/2 problem\(s\) found\.$/);
        // The doctor is read-only: it neither generates a key nor creates the database file.
        expect(fs.existsSync(path.join(db.dataDir, 'secret.key'))).toBe(false);
        if (db.sqliteFile) expect(fs.existsSync(db.sqliteFile)).toBe(false);
      });

      it('detects a secret key that is not the one the database was set up with', async () => {
        await createTenant('keyed', ['--webhook-secret', WHSEC_A]);
        const run = await cli(['doctor'], { ...env, MW_SECRET_KEY: OTHER_SECRET_KEY });
        expect(run.code).toBe(1);
        expect(run.out).toMatch(/^FAIL {2}secret key: the secret key does not match/m);

        // Every other command refuses to run with it rather than write unreadable secrets.
        const list = await cli(['tenant', 'list'], { ...env, MW_SECRET_KEY: OTHER_SECRET_KEY });
        expect(list.code).toBe(1);
        expect(list.err).toMatch(/is not the key this database was set up with/);
        expect(list.err).not.toMatch(STACK_FRAME);
      });
    });

    describe('tenant', () => {
      it('create prints the webhook URL and a one-time API key; list shows it without secrets', async () => {
        const text = await cli(['tenant', 'create', 'Acme Inc'], { ...env, MW_PUBLIC_URL: 'https://mw.example.com' });
        expect(text.code, text.err).toBe(0);
        expect(text.out).toMatch(/^Tenant ten_\w+ \(Acme Inc\) created\.$/m);
        expect(text.out).toMatch(/^ {2}Webhook URL: https:\/\/mw\.example\.com\/webhook\/[\w-]{24,}$/m);
        expect(text.out).toMatch(/^ {2}API key \(ingest, read, write; shown once\): mw_\w+_[\w-]+$/m);

        const created = await createTenant('globex', ['--webhook-secret', WHSEC_A]);
        expect(created).toMatchObject({ id: expect.stringMatching(/^ten_/), name: 'globex', apiKey: expect.stringMatching(/^mw_/) });
        expect(created.webhookUrl.endsWith(`/webhook/${created.webhookToken}`)).toBe(true);

        const list = json<TenantViewJson[]>(await cli(['tenant', 'list', '--json'], env));
        expect(list.map((t) => t.name).sort()).toEqual(['Acme Inc', 'globex']);
        expect(list.find((t) => t.id === created.id)).toMatchObject({ webhookUrl: created.webhookUrl, webhookSecretsActive: 1 });
        expect(list.find((t) => t.name === 'Acme Inc')).toMatchObject({ webhookSecretsActive: 0 });

        const plain = await cli(['tenant', 'list'], env);
        expect(plain.code).toBe(0);
        expect(plain.out.split('\n')).toHaveLength(2);
        expect(plain.out).toContain(`${created.id}\tglobex\tsecrets:1\tstripe-key:none\t${created.webhookUrl}`);
        for (const out of [plain.out, JSON.stringify(list)]) {
          expect(out).not.toContain(WHSEC_A);
          expect(out).not.toContain(created.apiKey);
        }
      });

      it('refuses a duplicate name and a malformed signing secret with a clear message', async () => {
        await createTenant('acme');
        const dup = await cli(['tenant', 'create', 'acme'], env);
        expect(dup.code).toBe(1);
        expect(dup.err).toBe('error: A tenant named "acme" already exists');

        const bad = await cli(['tenant', 'create', 'other', '--webhook-secret', 'not-a-whsec-value'], env);
        expect(bad.code).toBe(1);
        expect(bad.err).toMatch(/^error: stripeWebhookSecret must be a Stripe signing secret/);
        expect(bad.err).not.toContain('not-a-whsec-value');
        expect(bad.err).not.toMatch(STACK_FRAME);
        expect(json<TenantViewJson[]>(await cli(['tenant', 'list', '--json'], env)).map((t) => t.name)).toEqual(['acme']);
      });

      it('rotate-token issues a new webhook URL (by name or id); the old token stops resolving', async () => {
        const created = await createTenant('acme', ['--webhook-secret', WHSEC_A]);
        const byName = await cli(['tenant', 'rotate-token', 'acme'], env);
        expect(byName.code, byName.err).toBe(0);
        const match = /^New webhook URL for (\S+): (\S+\/webhook\/([\w-]+))$/.exec(byName.out);
        expect(match?.[1]).toBe(created.id);
        const [, , newUrl, newToken] = match!;
        expect(newUrl).not.toBe(created.webhookUrl);

        const list = json<TenantViewJson[]>(await cli(['tenant', 'list', '--json'], env));
        expect(list[0]?.webhookUrl).toBe(newUrl);
        expect(await activeSecrets(created.webhookToken)).toBeUndefined();
        expect(await activeSecrets(newToken!)).toEqual([WHSEC_A]);

        const byId = await cli(['tenant', 'rotate-token', created.id], env);
        expect(byId.code).toBe(0);
        expect(byId.out).not.toContain(newUrl!);

        const unknown = await cli(['tenant', 'rotate-token', 'nope'], env);
        expect(unknown).toMatchObject({ code: 1, err: 'error: Tenant "nope" not found' });
      });

      it('rotate-secret keeps the previous secret active; --only leaves one; the secret can come from stdin', async () => {
        const created = await createTenant('acme', ['--webhook-secret', WHSEC_A]);

        const rotated = await cli(['tenant', 'rotate-secret', 'acme', WHSEC_B], env);
        expect(rotated).toMatchObject({ code: 0, out: `Tenant ${created.id}: 2 signing secret(s) active.` });
        expect(await activeSecrets(created.webhookToken)).toEqual([WHSEC_B, WHSEC_A]);

        // From stdin (as `echo whsec_… | meterwatch tenant rotate-secret acme`), trailing newline and all.
        const fromStdin = await cli(['tenant', 'rotate-secret', created.id], env, { stdin: `${WHSEC_C}\n` });
        expect(fromStdin).toMatchObject({ code: 0, out: `Tenant ${created.id}: 2 signing secret(s) active.` });
        expect(await activeSecrets(created.webhookToken)).toEqual([WHSEC_C, WHSEC_B]); // at most two: the oldest retires

        const only = await cli(['tenant', 'rotate-secret', 'acme', '--only'], env, { stdin: WHSEC_D });
        expect(only).toMatchObject({ code: 0, out: `Tenant ${created.id}: 1 signing secret(s) active.` });
        expect(await activeSecrets(created.webhookToken)).toEqual([WHSEC_D]);
        expect(json<TenantViewJson[]>(await cli(['tenant', 'list', '--json'], env))[0]?.webhookSecretsActive).toBe(1);

        for (const run of [rotated, fromStdin, only]) {
          for (const s of [WHSEC_A, WHSEC_B, WHSEC_C, WHSEC_D]) expect(run.out + run.err).not.toContain(s);
        }
      });

      it('rotate-secret with nothing on stdin fails clearly and changes nothing', async () => {
        const created = await createTenant('acme', ['--webhook-secret', WHSEC_A]);
        const run = await cli(['tenant', 'rotate-secret', 'acme'], env, { stdin: '' });
        expect(run.code).toBe(1);
        expect(run.err).toMatch(/^error: webhookSecret must be a Stripe signing secret \(whsec_…\)$/);
        expect(await activeSecrets(created.webhookToken)).toEqual([WHSEC_A]);
      });
    });

    describe('key', () => {
      it('create / list / revoke with --json, and the keys really authenticate (or not) over HTTP', async () => {
        const tenant = await createTenant('acme');
        const created = json<KeyJson & { key: string }>(
          await cli(['key', 'create', '--tenant', 'acme', '--scopes', 'read, ingest', '--name', 'reporting', '--json'], env),
        );
        expect(created).toMatchObject({ tenantId: tenant.id, name: 'reporting', scopes: ['ingest', 'read'], revokedAt: null });
        expect(created.key).toMatch(/^mw_\w+_[\w-]+$/);
        expect(created.key.startsWith(`${created.prefix}_`)).toBe(true);

        const text = await cli(['key', 'create', '--tenant', tenant.id], env);
        expect(text.code, text.err).toBe(0);
        expect(text.out).toMatch(new RegExp(`^API key key_\\w+ for tenant ${tenant.id} \\(ingest, read\\), shown once:\\nmw_\\w+_[\\w-]+$`));

        const listed = json<KeyJson[]>(await cli(['key', 'list', '--tenant', 'acme', '--json'], env));
        expect(listed.map((k) => k.name).sort()).toEqual(['cli', 'initial key', 'reporting']);
        expect(listed.every((k) => k.revokedAt === null && k.tenantId === tenant.id && k.key === undefined)).toBe(true);
        expect(JSON.stringify(listed)).not.toContain(created.key);

        // A key belongs to its tenant: it cannot be revoked through another one.
        await createTenant('globex');
        const wrongTenant = await cli(['key', 'revoke', created.id, '--tenant', 'globex'], env);
        expect(wrongTenant).toMatchObject({ code: 1, err: 'error: Live API key not found' });

        const revoked = await cli(['key', 'revoke', created.id, '--tenant', 'acme'], env);
        expect(revoked).toMatchObject({ code: 0, out: `Revoked ${created.id}.` });
        const after = json<KeyJson[]>(await cli(['key', 'list', '--tenant', 'acme', '--json'], env));
        expect(after.find((k) => k.id === created.id)?.revokedAt).toEqual(expect.stringMatching(/^\d{4}-\d\d-\d\dT/));
        expect(after.filter((k) => k.revokedAt === null)).toHaveLength(2);
        const plain = await cli(['key', 'list', '--tenant', 'acme'], env);
        expect(plain.out.split('\n').find((l) => l.startsWith(created.id))).toMatch(/\trevoked \d{4}-/);
        expect(plain.out.split('\n').filter((l) => l.endsWith('\tactive'))).toHaveLength(2);

        const again = await cli(['key', 'revoke', created.id, '--tenant', 'acme'], env);
        expect(again).toMatchObject({ code: 1, err: 'error: Live API key not found' });

        // The server, on the same database, honours what the CLI did.
        const app = await startTestApp(db, { MW_SECRET_KEY: SECRET_KEY });
        try {
          const get = (key: string) =>
            app.server.inject({ method: 'GET', url: '/v1/billing-events', headers: { authorization: `Bearer ${key}` } });
          expect((await get(tenant.apiKey)).statusCode).toBe(200);
          const live = json<KeyJson & { key: string }>(await cli(['key', 'create', '--tenant', 'acme', '--scopes', 'read', '--json'], env));
          expect((await get(live.key)).statusCode).toBe(200);
          const denied = await get(created.key);
          expect(denied.statusCode).toBe(401);
          expect(denied.json()).toMatchObject({ error: { code: 'unauthorized' } });
        } finally {
          await app.close();
        }
      });

      it('an unknown scope exits 1 with a clear message, no stack trace, and creates nothing', async () => {
        await createTenant('acme');
        const run = await cli(['key', 'create', '--tenant', 'acme', '--scopes', 'read,admin,superuser'], env);
        expect(run).toMatchObject({ code: 1, out: '', err: 'error: unknown scope(s): admin, superuser' });
        expect(run.err).not.toMatch(STACK_FRAME);
        expect(json<KeyJson[]>(await cli(['key', 'list', '--tenant', 'acme', '--json'], env))).toHaveLength(1);

        const empty = await cli(['key', 'create', '--tenant', 'acme', '--scopes', ','], env);
        expect(empty.code).toBe(1);
        expect(empty.err).toMatch(/^error: scopes must name at least one of ingest, read, write$/);
      });

      it('an unknown tenant exits 1 with a clear message', async () => {
        expect((await cli(['migrate'], env)).code).toBe(0);
        const run = await cli(['key', 'list', '--tenant', 'nobody'], env);
        expect(run).toMatchObject({ code: 1, out: '', err: 'error: Tenant "nobody" not found' });
        const before = await cli(['key', 'create', '--tenant', 'default'], env);
        expect(before).toMatchObject({ code: 1, err: 'error: Tenant "default" not found: the first `meterwatch serve` creates it' });
      });
    });
  });
}

describe('meterwatch CLI, store-independent failures', () => {
  const badEnv = (dataDir: string): Env => ({
    MW_DATA_DIR: dataDir,
    PORT: 'http',
    LOG_LEVEL: 'loud',
    MW_SECRET_KEY: 'short-secret-key-value',
    MW_ADMIN_TOKEN: 'tiny-admin',
    STRIPE_WEBHOOK_SECRET: 'sk_live_notawebhooksecret',
    DATABASE_URL: 'mongodb://root:hunter2@db/mw',
  });
  const PROBLEMS = [/PORT must be/, /LOG_LEVEL must be/, /MW_SECRET_KEY must be/, /MW_ADMIN_TOKEN must be/, /STRIPE_WEBHOOK_SECRET entry 1/, /DATABASE_URL must start/];

  it.each([
    [['migrate']],
    [['tenant', 'list']],
    [['tenant', 'create', 'acme']],
    [['key', 'create', '--scopes', 'read']],
    [['serve']],
  ])('an invalid config makes `%s` exit 1 with ONE message listing every problem', async (argv) => {
    const dataDir = path.join(tempDir('mw-cli-bad-'), 'data');
    const run = await cli(argv, badEnv(dataDir));
    expect(run.code).toBe(1);
    expect(run.out).toBe('');
    expect(run.errCalls).toHaveLength(1);
    const [message] = run.errCalls;
    expect(message!.split('\n')[0]).toBe('Invalid configuration:');
    for (const p of PROBLEMS) expect(message).toMatch(p);
    expect(message!.split('\n')).toHaveLength(1 + PROBLEMS.length);
    expect(message).not.toMatch(STACK_FRAME);
    for (const secret of ['short-secret-key-value', 'tiny-admin', 'sk_live_notawebhooksecret', 'hunter2']) expect(message).not.toContain(secret);
    // Nothing was created on the way to the error.
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('doctor lists every config problem as a failure line and exits 1', async () => {
    const run = await cli(['doctor'], badEnv(path.join(tempDir('mw-cli-bad-'), 'data')));
    expect(run.code).toBe(1);
    const failures = run.out.split('\n').filter((l) => l.startsWith('FAIL  config: '));
    expect(failures).toHaveLength(PROBLEMS.length);
    for (const p of PROBLEMS) expect(failures.some((f) => p.test(f))).toBe(true);
    expect(run.out).toMatch(/6 problem\(s\) found\.$/);
    expect(run.out).not.toContain('hunter2');
  });

  it('doctor reports an unreachable PostgreSQL as a problem, not a crash', async () => {
    const dataDir = tempDir('mw-cli-pg-down-');
    const started = Date.now();
    const run = await cli(['doctor'], {
      MW_DATA_DIR: dataDir,
      MW_SECRET_KEY: SECRET_KEY,
      DATABASE_URL: 'postgres://postgres:doctor-pass@127.0.0.1:1/meterwatch',
    });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.code).toBe(1);
    expect(run.err).toBe('');
    expect(run.out).toMatch(/^ok {4}config: /m);
    expect(run.out).toMatch(/^ok {4}secret key: MW_SECRET_KEY is set$/m);
    expect(run.out).toMatch(/^FAIL {2}database: postgres is not reachable$/m);
    expect(run.out).toMatch(/1 problem\(s\) found\.$/);
    expect(run.out).not.toContain('doctor-pass');
  });

  it('an unknown command or option is a usage error, not a crash', async () => {
    const env = { MW_DATA_DIR: tempDir('mw-cli-usage-') };
    const unknown = await cli(['frobnicate'], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.err).toMatch(/unknown command 'frobnicate'/);
    const badOption = await cli(['tenant', 'list', '--bogus'], env);
    expect(badOption.code).not.toBe(0);
    expect(badOption.err).toMatch(/unknown option '--bogus'/);
  });
});
