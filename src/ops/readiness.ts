import type { Services } from '../http/services.js';

export interface CheckResult {
  ok: boolean;
  detail?: string;
}

export interface ReadinessReport {
  status: 'ok' | 'unavailable';
  checks: { store: CheckResult; migrations: CheckResult; backgroundLoop: CheckResult };
}

const STORE_TIMEOUT_MS = 2_000;

/** Honest readiness: each check really runs; none is assumed. */
export async function checkReadiness(services: Pick<Services, 'store' | 'loop' | 'clock' | 'detectorThread'>): Promise<ReadinessReport> {
  const store = await withTimeout(services.store.ping().then(() => ({ ok: true })), 'store did not answer');
  let migrations: CheckResult;
  if (!store.ok) migrations = { ok: false, detail: 'store unreachable' };
  else {
    migrations = await withTimeout(
      services.store.migrationStatus().then((s) =>
        s.pending.length === 0 ? { ok: true } : { ok: false, detail: `pending: ${s.pending.join(', ')}` },
      ),
      'migration status unavailable',
    );
  }
  const beat = services.loop.heartbeat();
  let backgroundLoop: CheckResult = beat.healthy
    ? { ok: true, detail: `last tick ${new Date(beat.lastTickAt ?? 0).toISOString()}` }
    : { ok: false, detail: beat.lastTickAt === undefined ? 'no tick yet' : `last tick ${new Date(beat.lastTickAt).toISOString()}` };
  // The detector worker thread is background work too: a dead or stuck one makes the replica unready.
  const worker = services.detectorThread?.heartbeat();
  if (worker) {
    const detail = worker.lastBeatAt === undefined ? 'detector worker: no heartbeat yet' : `detector worker: last heartbeat ${new Date(worker.lastBeatAt).toISOString()}`;
    backgroundLoop = { ok: backgroundLoop.ok && worker.healthy, detail: `${backgroundLoop.detail}; ${detail}` };
  }
  const ok = store.ok && migrations.ok && backgroundLoop.ok;
  return { status: ok ? 'ok' : 'unavailable', checks: { store, migrations, backgroundLoop } };
}

async function withTimeout(check: Promise<CheckResult>, failure: string): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `${failure} within ${STORE_TIMEOUT_MS} ms` }), STORE_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([check.catch(() => ({ ok: false, detail: failure })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
