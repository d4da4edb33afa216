import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { dialectEnabled, freshDatabase, type FreshDatabase } from '../support/dialects.js';
import { scratchDirs } from '../support/scratch-dirs.js';

/**
 * `meterwatch serve` as a real process: `node --import tsx src/main.ts serve …`. Every wait is
 * bounded and driven by the process's own output or exit, never by a fixed sleep.
 */

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src', 'main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface ServeProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first non-undefined `probe(stdout)`; rejects on exit or after `timeoutMs`. */
  waitFor<T>(what: string, probe: (stdout: string) => T | undefined, timeoutMs?: number): Promise<T>;
  /** Resolves when the process has exited; rejects after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<Exit>;
}

const running = new Set<ChildProcess>();
const tempDir = scratchDirs();

afterEach(() => {
  // A failed assertion must not leave a server behind.
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
});

function startServe(args: string[], env: Record<string, string>, cwd: string): ServeProcess {
  // A clean environment: nothing from the developer's shell (DATABASE_URL, MW_SECRET_KEY, …) leaks in.
  const baseEnv: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'SYSTEMROOT']) {
    const value = process.env[name];
    if (value !== undefined) baseEnv[name] = value;
  }
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', ...args], {
    cwd, // not the repository: a developer's .env there must not change what is tested
    env: { ...baseEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  // The streams may still hold output after 'exit'; 'close' is when both are drained.
  const closed = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));

  const describeState = () => `\n--- stdout ---\n${out}\n--- stderr ---\n${err}`;

  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor<T>(what: string, probe: (stdout: string) => T | undefined, timeoutMs = START_TIMEOUT_MS): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const found = probe(out);
          if (found === undefined) return;
          cleanup();
          resolve(found);
        };
        const onExit = () => {
          // Give the probe one last look at everything the process wrote.
          const found = probe(out);
          cleanup();
          if (found !== undefined) resolve(found);
          else reject(new Error(`process exited (${child.exitCode ?? child.signalCode}) before ${what}${describeState()}`));
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}${describeState()}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          child.stdout!.off('data', check);
          child.off('close', onExit);
        };
        child.stdout!.on('data', check);
        child.once('close', onExit);
        check();
      });
    },
    waitForExit(timeoutMs = STOP_TIMEOUT_MS): Promise<Exit> {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`process did not exit within ${timeoutMs} ms${describeState()}`)), timeoutMs);
      });
      return Promise.race([Promise.all([exited, closed]).then(([e]) => e), timeout]).finally(() => clearTimeout(timer));
    },
  };
}

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** The JSON log lines among stdout's lines (the banner is plain text). */
function logLines(stdout: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // a partial last line: not complete yet
    }
  }
  return lines;
}

const listeningAddress = (stdout: string): string | undefined => {
  const line = logLines(stdout).find((l) => l.msg === 'meterwatch listening');
  return typeof line?.address === 'string' ? line.address : undefined;
};

const BANNER_HEADLINE = 'Meterwatch created the "default" tenant';
const BANNER_KEY = /API key \(ingest, read, write\): (mw_\S+)/g;

interface Banner {
  webhookUrl: string;
  tokenUrl: string;
  apiKey: string;
}

const parseBanner = (stdout: string): Banner | undefined => {
  const webhookUrl = /Stripe webhook URL:\s+(\S+)/.exec(stdout)?.[1];
  const tokenUrl = /token URL: (\S+)\)/.exec(stdout)?.[1];
  const apiKey = /API key \(ingest, read, write\): (mw_\S+)\n/.exec(stdout)?.[1];
  return webhookUrl && tokenUrl && apiKey ? { webhookUrl, tokenUrl, apiKey } : undefined;
};

async function getJson(url: string, apiKey?: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(url, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {}, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json() };
}

async function stop(proc: ServeProcess): Promise<Exit> {
  expect(proc.child.kill('SIGTERM')).toBe(true);
  return proc.waitForExit();
}

describe('meterwatch serve, as a real process', () => {
  it('first start prints the banner once; the key works; SIGTERM exits 0; a restart keeps the data and prints no banner', async () => {
    const root = tempDir('mw-serve-');
    const dataDir = path.join(root, 'data'); // does not exist yet: serve creates it
    const env = { LOG_LEVEL: 'info' }; // and no MW_SECRET_KEY: the key file is generated

    // ---- first start ----
    const first = startServe(['--port', '0', '--data-dir', dataDir], env, root);
    const address = await first.waitFor('the "meterwatch listening" log line', listeningAddress);
    expect(address).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(address).not.toMatch(/:0$/);
    const banner = await first.waitFor('the first-start banner', parseBanner);

    // The URLs printed are the ones actually served (the bound port, not the requested port 0).
    expect(banner.webhookUrl).toBe(`${address}/webhooks/stripe`);
    expect(banner.tokenUrl).toMatch(new RegExp(`^${address.replace(/\./g, '\\.')}/webhook/[\\w-]{24,}$`));
    expect(banner.apiKey).toMatch(/^mw_\w+_[\w-]+$/);
    expect(first.stdout()).toContain('set STRIPE_WEBHOOK_SECRET');

    // The printed API key reads this tenant's events; a bad one gets the uniform 401 body.
    expect(await getJson(`${address}/v1/billing-events`, banner.apiKey)).toEqual({ status: 200, body: { data: [], nextCursor: null } });
    const wrongKey = banner.apiKey.slice(0, -4) + (banner.apiKey.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const bad of [wrongKey, undefined]) {
      const denied = await getJson(`${address}/v1/billing-events`, bad);
      expect(denied.status).toBe(401);
      expect(denied.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String), requestId: expect.any(String) } });
      expect(Object.keys((denied.body as { error: object }).error).sort()).toEqual(['code', 'message', 'requestId']);
    }
    expect(await getJson(`${address}/health/ready`)).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await getJson(`${address}/health/live`)).toEqual({ status: 200, body: { status: 'ok' } });

    // The printed webhook URL is live and fails closed: no STRIPE_WEBHOOK_SECRET yet → 400.
    const webhook = await fetch(banner.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' },
      body: '{"id":"evt_1","object":"event"}',
      signal: AbortSignal.timeout(10_000),
    });
    expect(webhook.status).toBe(400);
    expect(((await webhook.json()) as { error: { code: string } }).error.code).toBe('webhook_secret_missing');

    const firstExit = await stop(first);
    expect(firstExit, first.stderr()).toEqual({ code: 0, signal: null });
    const firstOut = first.stdout();
    expect(firstOut.split(BANNER_HEADLINE)).toHaveLength(2); // exactly once
    expect([...firstOut.matchAll(BANNER_KEY)]).toHaveLength(1);
    const firstLogs = logLines(firstOut);
    expect(firstLogs.filter((l) => l.msg === 'meterwatch listening')).toHaveLength(1);
    expect(firstLogs.some((l) => l.msg.startsWith('MW_SECRET_KEY is not set: generated a key file'))).toBe(true);
    expect(firstLogs.some((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM')).toBe(true);
    // The API key is printed once, in the banner, and never logged.
    expect(firstLogs.some((l) => JSON.stringify(l).includes(banner.apiKey))).toBe(false);
    expect(first.stderr()).toBe('');

    // The generated key file: owner-only.
    const keyFile = path.join(dataDir, 'secret.key');
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(keyFile, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    const keyBefore = fs.readFileSync(keyFile, 'utf8');

    // ---- second start, same data dir ----
    const second = startServe(['--port', '0', '--data-dir', dataDir], env, root);
    const address2 = await second.waitFor('the "meterwatch listening" log line (restart)', listeningAddress);
    expect(await getJson(`${address2}/v1/billing-events`, banner.apiKey)).toMatchObject({ status: 200 });
    expect(await getJson(`${address2}/health/ready`)).toMatchObject({ status: 200, body: { status: 'ok' } });

    const secondExit = await stop(second);
    expect(secondExit, second.stderr()).toEqual({ code: 0, signal: null });
    const secondOut = second.stdout();
    expect(secondOut).not.toContain(BANNER_HEADLINE);
    expect(secondOut).not.toMatch(/API key/);
    expect(secondOut).not.toContain(banner.apiKey);
    const secondLogs = logLines(secondOut);
    // The existing key file is reused (nothing generated), and the missing webhook secret is still flagged.
    expect(secondLogs.some((l) => l.msg.startsWith('MW_SECRET_KEY is not set'))).toBe(false);
    expect(secondLogs.some((l) => l.msg.startsWith('STRIPE_WEBHOOK_SECRET is not set'))).toBe(true);
    expect(fs.readFileSync(keyFile, 'utf8')).toBe(keyBefore);
    expect(fs.statSync(keyFile).mode & 0o777).toBe(0o600);

    // ---- a SIGTERM the moment the process says it is listening still drains cleanly ----
    const third = startServe(['--port', '0', '--data-dir', dataDir], env, root);
    await third.waitFor('the "meterwatch listening" log line (third start)', listeningAddress);
    expect(await stop(third), third.stderr()).toEqual({ code: 0, signal: null });
    expect(logLines(third.stdout()).some((l) => l.msg === 'shutting down')).toBe(true);
  }, 120_000);

  it('an invalid PORT exits non-zero and prints the whole problem list, starting nothing', async () => {
    const root = tempDir('mw-serve-bad-');
    const dataDir = path.join(root, 'data');
    const proc = startServe(['--data-dir', dataDir], { PORT: '80a', LOG_LEVEL: 'chatty', MW_ADMIN_TOKEN: 'short-token' }, root);
    const exit = await proc.waitForExit(START_TIMEOUT_MS);
    expect(exit.code).toBe(1);
    const stderr = proc.stderr();
    expect(stderr).toContain('Invalid configuration:');
    expect(stderr).toContain('  - PORT must be a whole number between 0 and 65535, got "80a"');
    expect(stderr).toMatch(/ {2}- LOG_LEVEL must be one of/);
    expect(stderr).toMatch(/ {2}- MW_ADMIN_TOKEN must be at least 24 characters/);
    expect(stderr).not.toContain('short-token');
    expect(stderr).not.toMatch(/\n\s+at\s/); // no stack trace
    expect(proc.stdout()).not.toContain(BANNER_HEADLINE);
    expect(fs.existsSync(dataDir)).toBe(false);
  }, 60_000);

  it('an invalid --port flag is reported the same way', async () => {
    const root = tempDir('mw-serve-bad-');
    const proc = startServe(['--port', '70000', '--data-dir', path.join(root, 'data')], {}, root);
    const exit = await proc.waitForExit(START_TIMEOUT_MS);
    expect(exit.code).toBe(1);
    expect(proc.stderr()).toContain('  - PORT must be between 0 and 65535, got 70000');
  }, 60_000);

  describe.each(['sqlite', 'postgres'] as const)('a port already in use (%s)', (dialect) => {
    let db: FreshDatabase | undefined;
    let blocker: net.Server | undefined;
    afterEach(async () => {
      await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
      await db?.cleanup();
      db = undefined;
      blocker = undefined;
    });

    it('exits 1 promptly with the error instead of hanging on open connections', async (ctx) => {
      if (!(await dialectEnabled(dialect))) return ctx.skip();
      db = await freshDatabase(dialect);
      blocker = net.createServer();
      const port = await new Promise<number>((resolve) => blocker!.listen(0, '127.0.0.1', () => resolve((blocker!.address() as net.AddressInfo).port)));

      const proc = startServe(['--port', String(port), '--data-dir', db.dataDir], { DATABASE_URL: db.databaseUrl, LOG_LEVEL: 'warn' }, db.dataDir);
      const exit = await proc.waitForExit(START_TIMEOUT_MS);
      expect(exit, proc.stdout()).toEqual({ code: 1, signal: null });
      expect(proc.stderr()).toMatch(/^error: listen EADDRINUSE/m);
      // The default tenant was already created: its one-time key is still shown, or it would be lost.
      const banner = parseBanner(proc.stdout());
      expect(banner?.webhookUrl).toBe(`http://127.0.0.1:${port}/webhooks/stripe`);

      // The next start (on a free port) has no banner to show, and the key from the failed start works.
      const retry = startServe(['--port', '0', '--data-dir', db.dataDir], { DATABASE_URL: db.databaseUrl, LOG_LEVEL: 'info' }, db.dataDir);
      const address = await retry.waitFor('the "meterwatch listening" log line', listeningAddress);
      expect(await getJson(`${address}/v1/billing-events`, banner!.apiKey)).toMatchObject({ status: 200 });
      expect(await stop(retry)).toEqual({ code: 0, signal: null });
      expect(retry.stdout()).not.toContain(BANNER_HEADLINE);
    }, 90_000);
  });
});
