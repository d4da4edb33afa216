import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../../src/ops/serve-node-flags.js';

const run = promisify(execFile);

/**
 * In a process started with the server's node flags, a worker limited to a 6 MB young generation
 * keeps to it only after letWorkersSizeTheirHeaps(): the flag would otherwise give it
 * the request thread's 16 MB semi-spaces. The worker keeps many objects alive for a while so its
 * new space grows to whatever it is allowed.
 */
async function workerNewSpaceMb(release: boolean): Promise<number> {
  const module = new URL('../../src/ops/worker-heap-limits.ts', import.meta.url).href;
  const script = `
    import { Worker } from 'node:worker_threads';
    const { letWorkersSizeTheirHeaps } = await import(${JSON.stringify(module)});
    if (${release}) letWorkersSizeTheirHeaps();
    const worker = new Worker(\`
      const v8 = require('node:v8');
      let keep = []; let max = 0;
      for (let i = 0; i < 400000; i++) {
        keep.push({ i, s: 'x' + i, a: [i, i] });
        if (keep.length > 20000) keep = keep.slice(10000);
        if (i % 1000 === 0) max = Math.max(max, v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size);
      }
      require('node:worker_threads').parentPort.postMessage(max);\`, { eval: true, execArgv: [], resourceLimits: { maxYoungGenerationSizeMb: 6 } });
    worker.once('message', (max) => { console.log(max); process.exit(0); });
  `;
  const { stdout } = await run(process.execPath, [...SERVE_NODE_FLAGS, '--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 });
  return Number(stdout.trim()) / 1_048_576;
}

/** The old-generation limit a worker gets under the server's flags, with or without the release. */
async function workerHeapLimitMb(release: boolean): Promise<number> {
  const module = new URL('../../src/ops/worker-heap-limits.ts', import.meta.url).href;
  const script = `
    import { Worker } from 'node:worker_threads';
    const { letWorkersSizeTheirHeaps } = await import(${JSON.stringify(module)});
    if (${release}) letWorkersSizeTheirHeaps();
    const worker = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:v8').getHeapStatistics().heap_size_limit)",
      { eval: true, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 6 } });
    worker.once('message', (limit) => { console.log(limit); process.exit(0); });
  `;
  const { stdout } = await run(process.execPath, [...SERVE_NODE_FLAGS, '--import', 'tsx', '--input-type=module', '-e', script], { timeout: 60_000 });
  return Number(stdout.trim()) / 1_048_576;
}

describe('letWorkersSizeTheirHeaps', () => {
  it("gives workers their own old-generation limit back under the server's --max-old-space-size", async () => {
    const [before, after] = await Promise.all([workerHeapLimitMb(false), workerHeapLimitMb(true)]);
    expect(before).toBeGreaterThan(1000);
    expect(after).toBeLessThan(100);
  });

  it("gives workers their own young-generation limit back under the server's --max-semi-space-size", async () => {
    const [before, after] = await Promise.all([workerNewSpaceMb(false), workerNewSpaceMb(true)]);
    expect(before).toBeGreaterThan(12);
    expect(after).toBeLessThanOrEqual(6);
  });
});
