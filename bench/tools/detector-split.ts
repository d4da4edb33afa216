/**
 * Where the detectors' CPU goes, per MW_DETECTOR_MODE: the real server (dist) on SQLite receives a
 * counted run of signed unique webhooks; the server's CPU is read per thread from /proc, so the
 * request thread's CPU per webhook can be compared between `inline` and `worker` even on a busy
 * machine (wall-clock rates from such a machine are not quoted). Also: detector backlog after the
 * run, time for the detectors to catch up, idle and peak RSS.
 *
 *   npm run build && node dist/bench/tools/detector-split.js [amount=20000] [modes=inline,worker] [connections=32]
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from '../lib/load.js';
import { startMeterwatch } from '../lib/meterwatch-server.js';
import { EventFactory, UniquePool } from '../lib/signed-events.js';

const amount = Number(process.argv[2] ?? 20_000);
const modes = (process.argv[3] ?? 'inline,worker').split(',');
const connections = Number(process.argv[4] ?? 32);
const TICK = 100; // USER_HZ

function threadCpu(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICK);
    } catch {
      // the thread ended
    }
  }
  return out;
}

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const machineBusy = () => {
  const [, ...f] = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  const total = f.reduce((a, b) => a + b, 0);
  return { idle, total };
};

for (const mode of modes) {
  process.env.MW_DETECTOR_MODE = mode;
  const server = await startMeterwatch(`split-${mode}`, { kind: 'sqlite' });
  try {
    const pid = server.child.pid;
    await sleep(2_000);
    const idleRss = rss(pid);
    const pool = new UniquePool(new EventFactory(server.secret));
    pool.fill(amount + 3_000 + connections);
    const common = { url: server.child.url, path: '/webhooks/stripe', connections, source: pool };
    await runLoad({ ...common, amount: 3_000, maxSeconds: 60 });
    // Let the detectors finish the warm-up's events before the measured window.
    for (let i = 0; i < 120 && Object.values(await server.feedBacklog()).some((n) => n > 0); i++) await sleep(250);
    const before = threadCpu(pid);
    const m0 = machineBusy();
    server.child.rss.resetWindow();
    const load = await runLoad({ ...common, amount, maxSeconds: 300 });
    const after = threadCpu(pid);
    const m1 = machineBusy();
    const peakRss = server.child.rss.windowPeakMb();
    const backlog = await server.feedBacklog();
    const caughtUpStarted = performance.now();
    for (let i = 0; i < 1200 && Object.values(await server.feedBacklog()).some((n) => n > 0); i++) await sleep(100);
    const catchUpS = (performance.now() - caughtUpStarted) / 1000;
    const afterCatchUp = threadCpu(pid);
    const delta = (a: Map<number, number>, b: Map<number, number>) => [...a].map(([tid, s]) => ({ tid, s: s - (b.get(tid) ?? 0) })).filter((t) => t.s > 0.005).sort((x, y) => y.s - x.s);
    const run = delta(after, before);
    const total = run.reduce((a, t) => a + t.s, 0);
    const main = run.find((t) => t.tid === pid)?.s ?? 0;
    const catchUp = delta(afterCatchUp, after).reduce((a, t) => a + t.s, 0);
    const busyShare = 1 - (m1.idle - m0.idle) / (m1.total - m0.total);
    console.log(
      JSON.stringify({
        mode,
        webhooks: load.ok,
        non2xx: load.non2xx,
        errors: load.errors,
        seconds: +load.seconds.toFixed(2),
        perSecond: Math.round(load.okPerSecond),
        p50: +load.latency.p50.toFixed(2),
        p99: +load.latency.p99.toFixed(2),
        mainThreadUsPerWebhook: Math.round((main / load.ok) * 1e6),
        processUsPerWebhook: Math.round((total / load.ok) * 1e6),
        catchUpUsPerWebhook: Math.round((catchUp / load.ok) * 1e6),
        threads: run.slice(0, 6).map((t) => `${t.tid === pid ? 'main' : t.tid}:${t.s.toFixed(2)}s`).join(' '),
        backlogAfterRun: backlog,
        catchUpSeconds: +catchUpS.toFixed(1),
        idleRssMb: Math.round(idleRss),
        peakRssMb: Math.round(peakRss),
        machineBusyShare: +busyShare.toFixed(2),
      }),
    );
  } finally {
    await server.close();
  }
}
