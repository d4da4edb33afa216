import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, freshDatabase, type FreshDatabase } from '../support/dialects.js';

/**
 * Must hold 9: `meterwatch serve` as a real process, loaded with usage events from 8 connections,
 * killed with SIGKILL mid-load, restarted. Every event that was acknowledged (200) is stored exactly
 * once, the counters equal the fold of the ledger, and resending everything changes nothing.
 * Every wait is bounded and driven by the process's output or exit, never a fixed sleep.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src', 'main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const SECRET_KEY = randomBytes(32).toString('hex');
const WORKERS = 8;
const BATCH = 20;
const TARGET_ACKNOWLEDGED = 3000;
const LOAD_LIMIT_MS = 40_000;

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
});

interface Server {
  child: ChildProcess;
  address: string;
  stdout: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startServer(db: FreshDatabase): Promise<Server> {
  const env: Record<string, string> = { DATABASE_URL: db.databaseUrl, MW_SECRET_KEY: SECRET_KEY, LOG_LEVEL: 'info' };
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'LANG']) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--port', '0', '--data-dir', db.dataDir], { cwd: db.dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen within 30 s\n${out}\n${err}`)), 30_000);
    const check = () => {
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          const parsed = JSON.parse(line) as { msg?: string; address?: string };
          if (parsed.msg === 'meterwatch listening' && parsed.address) {
            clearTimeout(timer);
            child.stdout!.off('data', check);
            resolve(parsed.address);
            return;
          }
        } catch {
          // partial line
        }
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening\n${out}\n${err}`));
    });
  });
  return { child, address, stdout: () => out, exited };
}

async function waitExit(server: Server, timeoutMs = 15_000) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('server did not exit')), timeoutMs)));
  try {
    return await Promise.race([server.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface SentEvent {
  metric: string;
  customerRef: string;
  quantity: number;
  ts: number;
  idempotencyKey?: string;
}

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`crash safety (SIGKILL): ${dialect}`, () => {
    it('9: after SIGKILL during load and a restart, every acknowledged event is stored exactly once and counters equal the ledger fold', async () => {
      const db = await freshDatabase(dialect);
      try {
        const first = await startServer(db);
        const apiKey = /API key \(ingest, read, write\): (mw_\S+)/.exec(first.stdout())?.[1];
        expect(apiKey, first.stdout()).toBeDefined();
        const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };

        // ---- load from 8 connections, remembering what was acknowledged ----
        const acknowledged: SentEvent[][] = [];
        let acknowledgedEvents = 0;
        let stop = false;
        let sent = 0;
        const base = Date.now() - 60_000;
        let killedAt = 0;
        const deadline = Date.now() + LOAD_LIMIT_MS;
        const worker = async (w: number) => {
          for (let b = 0; !stop && Date.now() < deadline; b++) {
            const batch: SentEvent[] = Array.from({ length: BATCH }, (_, e) => {
              const n = sent++;
              // Half with client keys, half with server-derived keys (unique by ts and customer).
              return e % 2 === 0
                ? { metric: `m${e % 4}`, customerRef: `cus_${w % 3}`, quantity: (e % 5) + 0.5, ts: base + (n % 50_000), idempotencyKey: `w${w}-b${b}-e${e}` }
                : { metric: `m${e % 4}`, customerRef: `cus_d${w}`, quantity: (e % 5) + 1, ts: base + n };
            });
            try {
              const res = await fetch(`${first.address}/v1/events/ingest`, { method: 'POST', headers, body: JSON.stringify({ events: batch }), signal: AbortSignal.timeout(10_000) });
              const body = (await res.json()) as { accepted: number; duplicates: number };
              if (res.status === 200 && !killedAt) {
                expect(body.accepted + body.duplicates).toBe(BATCH);
                acknowledged.push(batch);
                acknowledgedEvents += BATCH;
              }
            } catch {
              // cut off by the kill: not acknowledged, may or may not be stored
            }
            if (acknowledgedEvents >= TARGET_ACKNOWLEDGED && !killedAt) {
              // Kill while the other workers still have requests in flight.
              killedAt = Date.now();
              first.child.kill('SIGKILL');
            }
          }
        };
        const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
        const exit = await waitExit(first, LOAD_LIMIT_MS + 15_000);
        stop = true;
        await Promise.all(workers);
        expect(exit.signal).toBe('SIGKILL');
        expect(acknowledgedEvents).toBeGreaterThanOrEqual(TARGET_ACKNOWLEDGED);

        // ---- restart on the same data ----
        const second = await startServer(db);
        const get = async (url: string) => {
          const res = await fetch(`${second.address}${url}`, { headers, signal: AbortSignal.timeout(30_000) });
          expect(res.status, url).toBe(200);
          return res.json() as Promise<any>;
        };
        const stored = new Map<string, number>();
        const sums = new Map<string, number>();
        let cursor: string | null = null;
        for (let page = 0; page < 200; page++) {
          const body: { data: { idempotencyKey: string; customerRef: string; metric: string; quantity: string; late: boolean }[]; nextCursor: string | null } = await get(
            `/v1/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
          );
          for (const e of body.data) {
            stored.set(e.idempotencyKey, (stored.get(e.idempotencyKey) ?? 0) + 1);
            expect(e.late).toBe(false);
            const k = `${e.customerRef}|${e.metric}`;
            sums.set(k, (sums.get(k) ?? 0) + Number(e.quantity) * 2);
          }
          cursor = body.nextCursor;
          if (!cursor) break;
        }
        expect(cursor).toBeNull();
        expect([...stored.values()].every((n) => n === 1)).toBe(true);
        expect(stored.size).toBeGreaterThanOrEqual(acknowledgedEvents);

        // Every acknowledged event is there: client keys by key, derived ones by resending (all duplicates).
        for (const batch of acknowledged) for (const e of batch) if (e.idempotencyKey) expect(stored.get(e.idempotencyKey), e.idempotencyKey).toBe(1);
        const replayed = await Promise.all(
          acknowledged.map(async (batch) => {
            const res = await fetch(`${second.address}/v1/events/ingest`, { method: 'POST', headers, body: JSON.stringify({ events: batch }), signal: AbortSignal.timeout(30_000) });
            return (await res.json()) as { accepted: number; duplicates: number };
          }),
        );
        expect(replayed.reduce((s, r) => s + r.accepted, 0)).toBe(0);
        expect(replayed.reduce((s, r) => s + r.duplicates, 0)).toBe(acknowledgedEvents);

        // Counters equal the ledger: by the API's own replay (the fold), and by summing the listing.
        const replay = await fetch(`${second.address}/v1/replay`, { method: 'POST', headers, body: JSON.stringify({ dryRun: true }), signal: AbortSignal.timeout(60_000) });
        const report = (await replay.json()) as { differenceCount: number; eventsRead: number; countersChecked: number };
        expect(report).toMatchObject({ differenceCount: 0, eventsRead: stored.size });
        expect(report.countersChecked).toBeGreaterThan(0);
        for (const [k, doubled] of sums) {
          const [customerRef, metric] = k.split('|') as [string, string];
          const usage = await get(`/v1/usage/current?customerRef=${customerRef}&metric=${metric}`);
          const counter = usage.metrics[0] ?? (await get(`/v1/usage/current?customerRef=${customerRef}&metric=${metric}&at=${base}`)).metrics[0];
          expect(Number(counter.sum) * 2, k).toBe(doubled);
        }

        second.child.kill('SIGTERM');
        expect(await waitExit(second)).toEqual({ code: 0, signal: null });
      } finally {
        await db.cleanup();
      }
    }, 180_000);
  });
}
