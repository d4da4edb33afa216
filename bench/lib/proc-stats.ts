import fs from 'node:fs';
import os from 'node:os';

/** Linux USER_HZ; 100 on every mainstream kernel/arch. */
const CLOCK_TICKS_PER_SECOND = 100;

/** Resident memory of a process in MiB (VmRSS), or undefined once it is gone / off Linux. */
export function residentMb(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const hwm = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    if (!rss?.[1]) return undefined;
    return { rssMb: Number(rss[1]) / 1024, hwmMb: hwm?.[1] ? Number(hwm[1]) / 1024 : Number(rss[1]) / 1024 };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
    return (utime + stime) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per thread of a process, by thread name (`comm`). The main (event-loop) thread is the
 * one whose id is the pid, reported as "main"; Node's own threads (libuv pool, V8 workers, our
 * worker threads) keep their kernel names.
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const threads = new Map<string, number>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cpu = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
      threads.set(name, (threads.get(name) ?? 0) + cpu);
    } catch {
      // exited meanwhile
    }
  }
  return threads;
}

/** Busy and total CPU seconds of the whole machine, all cores summed (from /proc/stat). */
export function machineCpuSeconds(): { busy: number; total: number } | undefined {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const total = v.slice(0, 8).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: (total - idle) / CLOCK_TICKS_PER_SECOND, total: total / CLOCK_TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

export interface CpuWindowResult {
  wallSeconds: number;
  /** Cores busy on average over the window (0…cores). */
  machineCores: number | undefined;
  serverCores: number | undefined;
  loadGenCores: number;
  /** Everything else: other engineers' work, PostgreSQL, the kernel's own threads. */
  otherCores: number | undefined;
  /** The busiest other processes during the window (name and cores), and CPU not charged to any process (softirq…). */
  topOthers: { name: string; cores: number }[];
  /**
   * The server's CPU seconds during the window per thread name ("main" = the event loop). Threads
   * that exited during the window are missing, so the sum can be below serverCores × wall.
   */
  serverThreads: Record<string, number>;
}

/** CPU seconds of every process, keyed by pid, with its command name. */
function allProcesses(): Map<number, { name: string; cpu: number }> {
  const map = new Map<number, { name: string; cpu: number }>();
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return map;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      map.set(Number(entry), { name, cpu: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND });
    } catch {
      // exited meanwhile
    }
  }
  return map;
}

/**
 * CPU accounting over one measured window: the server child, this load-generator process, and what
 * is left of the machine's busy time. On a 2-core box that remainder is the tell-tale of concurrent
 * load that depresses the figures.
 */
export class CpuWindow {
  private readonly startWall = performance.now();
  private readonly startSelf = process.cpuUsage();
  private readonly startServer: number | undefined;
  private readonly startMachine = machineCpuSeconds();
  private readonly startProcesses = allProcesses();
  private readonly startThreads: Map<string, number>;

  constructor(private readonly serverPid: number | undefined) {
    this.startServer = serverPid === undefined ? undefined : processCpuSeconds(serverPid);
    this.startThreads = serverPid === undefined ? new Map() : threadCpuSeconds(serverPid);
  }

  finish(): CpuWindowResult {
    const wallSeconds = (performance.now() - this.startWall) / 1000;
    const self = process.cpuUsage(this.startSelf);
    const loadGenCores = (self.user + self.system) / 1e6 / wallSeconds;
    const endServer = this.serverPid === undefined ? undefined : processCpuSeconds(this.serverPid);
    const serverCores =
      this.startServer !== undefined && endServer !== undefined ? (endServer - this.startServer) / wallSeconds : undefined;
    const endMachine = machineCpuSeconds();
    let machineCores: number | undefined;
    if (this.startMachine && endMachine && endMachine.total > this.startMachine.total) {
      const share = (endMachine.busy - this.startMachine.busy) / (endMachine.total - this.startMachine.total);
      machineCores = share * os.cpus().length;
    }
    const otherCores =
      machineCores === undefined ? undefined : Math.max(0, machineCores - loadGenCores - (serverCores ?? 0));
    const byName = new Map<string, number>();
    let charged = 0;
    for (const [pid, end] of allProcesses()) {
      if (pid === process.pid || pid === this.serverPid) continue;
      const delta = end.cpu - (this.startProcesses.get(pid)?.cpu ?? 0);
      if (delta <= 0) continue;
      charged += delta;
      byName.set(end.name, (byName.get(end.name) ?? 0) + delta / wallSeconds);
    }
    if (otherCores !== undefined) {
      const unaccounted = otherCores - charged / wallSeconds;
      if (unaccounted > 0.05) byName.set('(unattributed: processes that exited meanwhile, kernel work)', unaccounted);
    }
    const topOthers = [...byName.entries()]
      .map(([name, cores]) => ({ name, cores }))
      .filter((o) => o.cores >= 0.03)
      .sort((a, b) => b.cores - a.cores)
      .slice(0, 4);
    const serverThreads: Record<string, number> = {};
    if (this.serverPid !== undefined) {
      for (const [name, cpu] of threadCpuSeconds(this.serverPid)) {
        const delta = cpu - (this.startThreads.get(name) ?? 0);
        if (delta > 0) serverThreads[name] = delta;
      }
    }
    return { wallSeconds, machineCores, serverCores, loadGenCores, otherCores, topOthers, serverThreads };
  }
}

/** Samples a process's resident memory every `intervalMs`; peaks are tracked per window. */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private windowPeak = 0;
  private overallPeak = 0;
  private last = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Starts a new measurement window; returns the resident size at this moment. */
  resetWindow(): number {
    this.sample();
    this.windowPeak = this.last;
    return this.last;
  }

  /** Peak VmRSS seen since the last resetWindow (sampled, so it can miss a sub-interval spike). */
  windowPeakMb(): number {
    this.sample();
    return this.windowPeak;
  }

  overallPeakMb(): number {
    this.sample();
    return this.overallPeak;
  }

  currentMb(): number {
    this.sample();
    return this.last;
  }

  /** The kernel's own high-water mark for the whole process lifetime (VmHWM): misses nothing. */
  lifetimeHighWaterMb(): number | undefined {
    return residentMb(this.pid)?.hwmMb;
  }

  private sample(): void {
    const r = residentMb(this.pid);
    if (!r) return;
    this.last = r.rssMb;
    if (r.rssMb > this.windowPeak) this.windowPeak = r.rssMb;
    if (r.rssMb > this.overallPeak) this.overallPeak = r.rssMb;
  }
}
