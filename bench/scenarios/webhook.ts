import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad, type LoadResult } from '../lib/load.js';
import { startMeterwatch, type BenchDatabase, type MeterwatchServer } from '../lib/meterwatch-server.js';
import { CpuWindow } from '../lib/proc-stats.js';
import { EventFactory, ReplaySource, UniquePool } from '../lib/signed-events.js';
import type { ScenarioResult, WebhookScenarioOptions } from './types.js';

const PATH = '/webhooks/stripe';
const NEW_EVENT = '{"received":true,"duplicate":false}';
const DUPLICATE = '{"received":true,"duplicate":true}';
/** Quiet period between two equal row counts before a count is trusted. */
const SETTLE_MS = 500;
const SETTLE_MAX_MS = 30_000;

/**
 * The row count once the server is quiet: requests cut off by a stopped run (or timed out by the
 * load generator) may still be inside the server. Trusted when two counts SETTLE_MS apart are equal
 * and /health/live answered promptly before each (the event loop is not stuck in a long query);
 * gives up after SETTLE_MAX_MS.
 */
async function settledCount(server: MeterwatchServer): Promise<{ count: number; waitedMs: number; settled: boolean }> {
  const started = performance.now();
  const responsive = async () => {
    const t0 = performance.now();
    try {
      await fetch(`${server.child.url}/health/live`, { signal: AbortSignal.timeout(SETTLE_MAX_MS) });
    } catch {
      return false;
    }
    return performance.now() - t0 < 250;
  };
  let previous: number | undefined;
  for (;;) {
    const prompt = await responsive();
    const current = await server.countStoredEvents();
    const waitedMs = performance.now() - started;
    if (prompt && current === previous) return { count: current, waitedMs, settled: true };
    if (waitedMs > SETTLE_MAX_MS) return { count: current, waitedMs, settled: false };
    previous = prompt ? current : undefined;
    await sleep(SETTLE_MS);
  }
}

/**
 * Scenarios 2–4: the real server in a child process receiving signed Stripe events.
 *
 * - unique events: warm-up, then a measured run whose request COUNT is sized from the warm-up rate
 *   to last about `targetSeconds`. A counted run lets every request finish, so "rows added to
 *   billing_events" must equal "200 responses" exactly, and every answer must say duplicate:false.
 * - duplicates (optional): the events just stored, redelivered with fresh signatures; every answer
 *   must say duplicate:true and the row count must not move.
 */
export async function runWebhookScenarios(
  database: BenchDatabase,
  options: WebhookScenarioOptions,
  log: (line: string) => void,
): Promise<ScenarioResult[]> {
  const label = database.kind === 'sqlite' ? 'SQLite' : 'PostgreSQL';
  const key = database.kind === 'sqlite' ? 'sqlite' : 'postgres';
  const title = `webhook → ${label}: signed unique events, stored`;
  const notes: string[] = [];

  const bootStarted = performance.now();
  const server = await startMeterwatch(`meterwatch-${database.kind}`, database, options.diagnostics ?? {});
  const results: ScenarioResult[] = [];
  try {
    notes.push(`server started in ${((performance.now() - bootStarted) / 1000).toFixed(1)} s (pid ${server.child.pid}), rate limit lifted to 1,000,000/s`);
    const factory = new EventFactory(server.secret);
    const pool = new UniquePool(factory);
    const common = { url: server.child.url, path: PATH, connections: options.connections, source: pool };

    // Warm-up: JIT, SQLite page cache / PG connections. Not measured; its rows are counted as the baseline.
    pool.fill(options.warmupAmount + options.connections);
    log(`  ${label}: warm-up (${options.warmupAmount.toLocaleString('en-US')} events, ≤ ${options.warmupMaxSeconds} s)…`);
    const warmup = await runLoad({ ...common, amount: options.warmupAmount, maxSeconds: options.warmupMaxSeconds, expectBody: NEW_EVENT });
    const before = await settledCount(server);
    const storedBefore = before.count;
    if (!before.settled) notes.push(`row count still moving ${SETTLE_MAX_MS / 1000} s after the warm-up: verification may be off`);

    // Size the measured run from the warm-up rate (clamped), and pre-sign all of it now.
    // The second half of the warm-up is past most JIT work: a better predictor than the average.
    const warmRate = Math.max(warmup.secondHalfOkPerSecond, warmup.okPerSecond);
    const amount = clamp(Math.round(warmRate * options.targetSeconds * 1.1), 2_000, 400_000);
    const generation = pool.fill(amount + options.connections - pool.available);
    notes.push(
      `warm-up ${warmup.completed.toLocaleString('en-US')} requests in ${warmup.seconds.toFixed(1)} s, ${Math.round(warmRate).toLocaleString('en-US')}/s at its end; ` +
        `measured run sized to ${amount.toLocaleString('en-US')} requests (pre-signed in ${generation.seconds.toFixed(1)} s)`,
    );
    globalThis.gc?.();

    const mainStart = pool.consumed;
    const startRssMb = server.child.rss.resetWindow();
    const cpu = new CpuWindow(server.child.pid);
    log(`  ${label}: measured run (${amount.toLocaleString('en-US')} events, ~${options.targetSeconds} s)…`);
    const load = await runLoad({ ...common, amount, maxSeconds: options.targetSeconds * 2, expectBody: NEW_EVENT });
    const cpuResult = cpu.finish();
    const peakRssMb = server.child.rss.windowPeakMb();
    const mainEnd = pool.consumed;
    if (pool.lazy > 0) notes.push(`${pool.lazy} events had to be signed during the run (pool too small): load generator slightly burdened`);
    if (load.cutShort) notes.push(`measured run hit its ${options.targetSeconds * 2} s safety limit and was stopped early`);
    const after = await settledCount(server);
    const storedAfter = after.count;
    if (after.waitedMs > 2_000) notes.push(`the server needed ${(after.waitedMs / 1000).toFixed(1)} s after the run to finish requests still inside it`);
    if (!after.settled) notes.push(`row count still moving ${SETTLE_MAX_MS / 1000} s after the run: verification may be off`);
    const backlog = await server.feedBacklog();
    if (Object.keys(backlog).length > 0) {
      notes.push(
        `background feed consumers (detectors) after the run: ${Object.entries(backlog)
          .map(([consumer, behind]) => `${consumer} ${behind.toLocaleString('en-US')} events behind`)
          .join(', ')} (of ${storedAfter.toLocaleString('en-US')} stored)`,
      );
      const behind = Math.max(...Object.values(backlog));
      if (behind > 0) {
        // Intake may outrun detection during a burst (the detectors yield to requests); what
        // matters then is how soon they catch up, and the rate that includes catching up.
        const caughtUp = await waitForFeed(server, CATCH_UP_MAX_MS);
        const seconds = caughtUp.ms / 1000;
        notes.push(
          caughtUp.done
            ? `the feed consumers caught up ${seconds.toFixed(1)} s after the run; stored and evaluated over run + catch-up: ` +
                `${Math.round(load.ok / (load.seconds + seconds)).toLocaleString('en-US')}/s`
            : `the feed consumers had NOT caught up ${seconds.toFixed(0)} s after the run (${caughtUp.behind.toLocaleString('en-US')} events still behind)`,
        );
      }
    }
    const added = storedAfter - storedBefore;
    notes.push(cpuPerRequest(cpuResult.serverThreads, load.completed, 'webhook'));
    const verification = verifyStored(added, load);
    results.push({ key, title, status: 'ok', load, warmup, startRssMb, peakRssMb, cpu: cpuResult, verification, notes });

    if (options.duplicateSeconds > 0) {
      // Only events the measured run delivered and that were answered 200 are known to be stored.
      const delivered = pool.bodies(mainStart, load.cutShort ? Math.max(mainStart, mainEnd - 2 * options.connections) : mainEnd);
      // Requests of the measured run that got no answer and are not stored yet may still land later.
      const late = Math.max(0, load.errors + Math.max(0, load.sent - load.completed) - Math.max(0, added - load.ok));
      results.push(await runDuplicates(server, delivered, storedAfter, late, options, log));
    }
    return results;
  } finally {
    await server.close();
    const lifetime = server.child.rss.overallPeakMb();
    const first = results[0];
    if (first) {
      first.lifetimePeakRssMb = lifetime;
      first.notes.push(`server peak resident over its whole life (start-up, warm-up, every phase): ${lifetime.toFixed(0)} MB`);
    }
  }
}

async function runDuplicates(
  server: MeterwatchServer,
  bodies: Buffer[],
  storedBefore: number,
  lateOriginals: number,
  options: WebhookScenarioOptions,
  log: (line: string) => void,
): Promise<ScenarioResult> {
  const title = 'webhook → SQLite: redelivered duplicates (dedup path)';
  const signStarted = performance.now();
  const source = new ReplaySource(bodies, server.secret);
  const notes = [
    `replaying ${source.size.toLocaleString('en-US')} stored events round-robin, re-signed with a fresh timestamp ` +
      `(${((performance.now() - signStarted) / 1000).toFixed(1)} s to sign)`,
  ];
  const common = { url: server.child.url, path: PATH, connections: options.connections, source, expectBody: DUPLICATE };
  log(`  SQLite: duplicate redelivery (~${options.duplicateSeconds} s)…`);
  const warmup = await runLoad({ ...common, durationSeconds: 1.5 });
  globalThis.gc?.();
  const startRssMb = server.child.rss.resetWindow();
  const cpu = new CpuWindow(server.child.pid);
  const load = await runLoad({ ...common, durationSeconds: options.duplicateSeconds });
  const cpuResult = cpu.finish();
  const peakRssMb = server.child.rss.windowPeakMb();
  const storedAfter = (await settledCount(server)).count;
  const grew = storedAfter - storedBefore;
  // A replay that wrote would have answered duplicate:false (a mismatch). Rows that appear without
  // one are the measured run's own timed-out deliveries finishing late, at most `lateOriginals`.
  const explained = grew > 0 && grew <= lateOriginals && load.mismatches + warmup.mismatches === 0;
  const verification = {
    ok: (grew === 0 || explained) && load.mismatches === 0 && warmup.mismatches === 0 && load.non2xx === 0,
    detail:
      `stored rows ${grew === 0 ? 'unchanged' : `grew by ${grew}`} (${storedAfter.toLocaleString('en-US')})` +
      `${explained ? ` — late deliveries of the measured run that had timed out at the load generator, not replays` : ''}; ` +
      `${(load.mismatches + warmup.mismatches).toLocaleString('en-US')} answers not {"duplicate":true}`,
  };
  return { key: 'duplicates', title, status: 'ok', load, warmup, startRssMb, peakRssMb, cpu: cpuResult, verification, notes };
}

function verifyStored(added: number, load: LoadResult): { ok: boolean; detail: string } {
  const n = (x: number) => x.toLocaleString('en-US');
  const answers = `${n(load.mismatches)} answers not {"duplicate":false}`;
  if (added === load.ok && load.errors === 0 && !load.cutShort) {
    return { ok: load.mismatches === 0 && load.non2xx === 0, detail: `rows added ${n(added)} = 200 responses ${n(load.ok)}; ${answers}` };
  }
  // Requests the load generator gave up on (timeout, forced stop) may still have been stored: the
  // rows must then lie between the 200s and the 200s plus those unanswered requests.
  const unanswered = load.errors + Math.max(0, load.sent - load.completed);
  const consistent = added >= load.ok && added - load.ok <= unanswered;
  return {
    ok: consistent && load.mismatches === 0 && load.non2xx === 0,
    detail:
      `rows added ${n(added)} vs 200 responses ${n(load.ok)}: ${n(added - load.ok)} stored without a counted answer, ` +
      `${n(unanswered)} requests unanswered (timeouts ${n(load.timeouts)}${load.cutShort ? ', run stopped early' : ''}) — ` +
      `${consistent ? 'consistent, nothing lost or doubled' : 'INCONSISTENT'}; ${answers}`,
  };
}

/**
 * Server CPU per answered request, split by thread. The event loop ("main") is what one process
 * cannot spread over cores, so its figure bounds the rate: 1 s ÷ main µs per request.
 */
export function cpuPerRequest(threads: Record<string, number>, requests: number, what: string): string {
  if (requests === 0) return `server CPU per ${what}: no requests`;
  const us = (seconds: number) => Math.round((seconds * 1e6) / requests);
  const entries = Object.entries(threads).sort((a, b) => b[1] - a[1]);
  const total = entries.reduce((sum, [, s]) => sum + s, 0);
  const main = threads.main ?? 0;
  const others = entries.filter(([name]) => name !== 'main' && us(threads[name] ?? 0) >= 1).map(([name, s]) => `${name} ${us(s)}`);
  return (
    `server CPU per ${what}: ${us(total)} µs (event-loop thread ${us(main)} µs → at most ~${main > 0 ? Math.round(requests / main).toLocaleString('en-US') : '∞'}/s from one event loop; ` +
    `other threads: ${others.join(', ') || 'none'})`
  );
}

const CATCH_UP_MAX_MS = 180_000;

/** Polls the feed consumers' backlog (twice a second, bounded) until every one is at the head. */
async function waitForFeed(server: MeterwatchServer, maxMs: number): Promise<{ done: boolean; ms: number; behind: number }> {
  const started = performance.now();
  let behind = Infinity;
  while (performance.now() - started < maxMs) {
    behind = Math.max(0, ...Object.values(await server.feedBacklog()));
    if (behind === 0) return { done: true, ms: performance.now() - started, behind };
    await sleep(500);
  }
  return { done: false, ms: performance.now() - started, behind };
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
