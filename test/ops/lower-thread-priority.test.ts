import fs from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { lowerThreadPriority } from '../../src/ops/lower-thread-priority.js';

const niceOf = (tid: number) => Number(fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);

/** Runs lowerThreadPriority(nice) in a fresh thread (through tsx: the module is TypeScript here). */
function inThread(nice: number): Promise<{ tid: number | null; nice: number }> {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const module = new URL('../../src/ops/lower-thread-priority.ts', import.meta.url).href;
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     import(${JSON.stringify(tsx)}).then((t) => { t.register(); return import(${JSON.stringify(module)}); })
       .then((m) => {
         const tid = m.lowerThreadPriority(${nice}) ?? null;
         const own = require('node:fs').readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ')[16];
         parentPort.postMessage({ tid, nice: Number(own) });
       });`,
    { eval: true },
  );
  return new Promise<{ tid: number | null; nice: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }).finally(() => void worker.terminate());
}

describe.runIf(process.platform === 'linux')('lowerThreadPriority', () => {
  it('renices the calling thread only, not the rest of the process', async () => {
    const mainBefore = niceOf(process.pid);
    const { tid, nice } = await inThread(6);
    expect(tid).toBeGreaterThan(0);
    expect(tid).not.toBe(process.pid);
    expect(nice).toBe(Math.max(6, mainBefore));
    expect(niceOf(process.pid)).toBe(mainBefore);
  });

  it('does nothing for 0', () => {
    expect(lowerThreadPriority(0)).toBeUndefined();
  });
});
