import { startChildServer } from '../lib/child-server.js';
import { runLoad } from '../lib/load.js';
import { distFile } from '../lib/paths.js';
import { CpuWindow } from '../lib/proc-stats.js';
import type { ScenarioResult } from './types.js';

/** A small JSON body of the size of a tiny API call. */
const BODY = JSON.stringify({ id: 'evt_ceiling', type: 'charge.succeeded', amount: 2000, currency: 'usd' });

/**
 * Scenario 1, the ceiling: bare Fastify 5 in a child process, one POST route parsing a small JSON
 * body and answering {ok:true}, same connections and same load generator as the webhook runs.
 */
export async function runCeiling(options: { connections: number; warmupSeconds: number; seconds: number }): Promise<ScenarioResult> {
  const title = 'ceiling: bare Fastify 5, POST small JSON → {ok:true}';
  const server = await startChildServer({
    name: 'bare-fastify',
    script: distFile('bench/servers/bare-fastify.js'),
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production' },
    readyAddress: (line) => (line.msg === 'bare fastify listening' && typeof line.address === 'string' ? line.address : undefined),
  });
  try {
    const common = { url: server.url, path: '/echo', connections: options.connections, staticBody: BODY, expectBody: '{"ok":true}' };
    const warmup = await runLoad({ ...common, durationSeconds: options.warmupSeconds });
    globalThis.gc?.();
    const startRssMb = server.rss.resetWindow();
    const cpu = new CpuWindow(server.pid);
    const load = await runLoad({ ...common, durationSeconds: options.seconds });
    const cpuResult = cpu.finish();
    const peakRssMb = server.rss.windowPeakMb();
    const clean = load.non2xx === 0 && load.errors === 0 && load.mismatches === 0;
    return {
      key: 'ceiling',
      title,
      status: 'ok',
      load,
      warmup,
      startRssMb,
      peakRssMb,
      cpu: cpuResult,
      verification: { ok: clean, detail: clean ? 'every response 200 {"ok":true}' : 'non-2xx, errors or unexpected bodies seen' },
      notes: [],
    };
  } finally {
    await server.stop();
  }
}
