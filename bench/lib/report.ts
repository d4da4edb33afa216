import os from 'node:os';
import type { ScenarioResult } from '../scenarios/types.js';
import type { PricingOutcome } from '../scenarios/pricing.js';

/** Reference figures from /work/shared/DESIGN.md "Performance" — measured earlier on this machine, not in this run. */
export const REFERENCE = {
  pythonMonitor: { perSecond: 980, p99Ms: 87 },
  bareFastify: { perSecond: 47_000 },
} as const;

export const FLOORS = {
  sqliteWebhooksPerSecond: 8_000,
  sqliteP99Ms: 20,
  residentMb: 200,
} as const;

export interface FloorCheck {
  name: string;
  pass: boolean;
  measured: string;
}

export interface MachineInfo {
  date: string;
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
  loadAverageAtStart: number[];
}

export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString(),
    cores: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: os.totalmem() / 1024 ** 3,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverageAtStart: os.loadavg(),
  };
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const ms = (n: number | undefined) =>
  n === Infinity ? '≥ 10 s' : n === undefined || !Number.isFinite(n) ? '—' : n < 10 ? n.toFixed(2) : n.toFixed(1);
const msU = (n: number) => (n === Infinity ? '≥ 10 s' : `${ms(n)} ms`);
const pct = (n: number) => (Number.isFinite(n) ? `${(n * 100).toFixed(1)} %` : '—');
const cores = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : n.toFixed(2));
const mb = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : `${n.toFixed(0)} MB`);

function table(header: string[], rows: string[][], alignLeft = new Set([0])): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (alignLeft.has(i) ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function ceilingRate(results: ScenarioResult[]): number | undefined {
  const c = results.find((r) => r.key === 'ceiling' && r.status === 'ok');
  return c?.load?.okPerSecond;
}

export function floorChecks(results: ScenarioResult[]): FloorCheck[] {
  const sqlite = results.find((r) => r.key === 'sqlite' && r.status === 'ok' && r.load);
  if (!sqlite?.load) {
    return [{ name: 'SQLite webhook floors', pass: false, measured: 'not measured (scenario skipped or failed)' }];
  }
  const rssMb = Math.max(sqlite.lifetimePeakRssMb ?? 0, sqlite.peakRssMb ?? 0);
  return [
    {
      name: `≥ ${int(FLOORS.sqliteWebhooksPerSecond)} stored webhooks/s on SQLite`,
      pass: sqlite.load.okPerSecond >= FLOORS.sqliteWebhooksPerSecond && sqlite.verification?.ok === true,
      measured: `${int(sqlite.load.okPerSecond)}/s${sqlite.verification?.ok === true ? '' : ' (storage verification failed)'}`,
    },
    {
      name: `p99 < ${FLOORS.sqliteP99Ms} ms on SQLite`,
      pass: sqlite.load.latencyAll.p99 < FLOORS.sqliteP99Ms && sqlite.load.errors === 0,
      measured: `${msU(sqlite.load.latencyAll.p99)}${sqlite.load.errors > 0 ? ` (${int(sqlite.load.errors)} requests timed out after 10 s)` : ''}`,
    },
    { name: `server resident memory < ${FLOORS.residentMb} MB`, pass: rssMb > 0 && rssMb < FLOORS.residentMb, measured: `${mb(rssMb)} peak (SQLite server, all phases)` },
  ];
}

export function renderReport(
  machine: MachineInfo,
  results: ScenarioResult[],
  pricing: PricingOutcome | undefined,
  connections: number,
  totalSeconds: number,
): string {
  const out: string[] = [];
  const ceiling = ceilingRate(results);
  out.push('');
  out.push(`Meterwatch benchmark — ${machine.date}`);
  out.push(
    `machine: ${machine.cores} cores (${machine.cpuModel}), ${machine.memoryGiB.toFixed(1)} GiB RAM, ${machine.kernel}, Node ${machine.node}; ` +
      `load average at start ${machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(' ')}`,
  );
  out.push(
    `method: each server in its own child process on 127.0.0.1, autocannon in the parent; ${connections} connections, pipelining 1; ` +
      'webhook bodies pre-rendered and pre-signed (unique event ids); per-tenant rate limit lifted (MW_WEBHOOK_RATE_PER_SECOND=MW_WEBHOOK_BURST=1000000)',
  );
  out.push('');

  const rows = results.map((r) => {
    if (r.status !== 'ok' || !r.load) return [r.title, r.status.toUpperCase(), '', '', '', '', '', '', '', '', ''];
    const l = r.load;
    return [
      r.title,
      int(l.okPerSecond),
      ms(l.latency.p50),
      ms(l.latencyAll.p99),
      ms(l.errors > 0 ? Infinity : l.latency.max),
      int(l.non2xx),
      int(l.errors),
      mb(r.peakRssMb),
      cores(r.cpu?.serverCores),
      cores(r.cpu?.otherCores),
      ceiling ? pct(l.okPerSecond / ceiling) : '—',
    ];
  });
  out.push(
    table(['scenario', '2xx/s', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx', 'no answer', 'peak RSS', 'server CPU', 'other CPU', 'of ceiling'], rows),
  );
  out.push('(no answer: requests the load generator gave up on after 10 s (timeouts) or lost; p99 and max count them as "≥ 10 s"; 2xx-only percentiles are in the notes)');
  out.push('(server CPU / other CPU: cores busy on average during the measured run; "other" is everything but the server and the load generator — PostgreSQL itself in its scenario, concurrent work otherwise)');

  out.push('');
  out.push('checks and notes:');
  for (const r of results) {
    out.push(`  ${r.title}`);
    if (r.status !== 'ok') out.push(`    ${r.status.toUpperCase()}: ${r.message ?? ''}`);
    if (r.verification) out.push(`    ${r.verification.ok ? 'verified' : 'VERIFICATION FAILED'}: ${r.verification.detail}`);
    if (r.load) {
      const l = r.load;
      const codes = Object.entries(l.statusCounts).map(([c, n]) => `${c}×${int(n)}`).join(', ');
      out.push(
        `    ${int(l.completed)} answered in ${l.seconds.toFixed(1)} s (${codes || 'none'}); errors ${l.errors}, timeouts ${l.timeouts}; ` +
          `2xx only: p90 ${ms(l.latency.p90)} ms, p99 ${ms(l.latency.p99)} ms, p99.9 ${ms(l.latency.p999)} ms, max ${ms(l.latency.max)} ms; load generator ${cores(r.cpu?.loadGenCores)} cores; ` +
          `server RSS ${mb(r.startRssMb)} → peak ${mb(r.peakRssMb)}`,
      );
    }
    for (const n of r.notes) out.push(`    ${n}`);
    if (r.cpu && r.cpu.topOthers.length > 0) {
      out.push(`    other CPU during the run: ${r.cpu.topOthers.map((o) => `${o.name} ${cores(o.cores)}`).join(', ')}`);
    }
  }

  out.push('');
  out.push('ratios:');
  const sqlite = results.find((r) => r.key === 'sqlite' && r.status === 'ok')?.load;
  const postgres = results.find((r) => r.key === 'postgres' && r.status === 'ok')?.load;
  const dups = results.find((r) => r.key === 'duplicates' && r.status === 'ok')?.load;
  if (ceiling) {
    out.push(`  this run's ceiling ${int(ceiling)} req/s = ${pct(ceiling / REFERENCE.bareFastify.perSecond)} of DESIGN.md's bare-Fastify reference (~${int(REFERENCE.bareFastify.perSecond)} req/s)`);
  }
  for (const [name, l] of [['SQLite', sqlite], ['PostgreSQL', postgres]] as const) {
    if (!l) continue;
    out.push(
      `  ${name}: ${ceiling ? `${pct(l.okPerSecond / ceiling)} of the ceiling; ` : ''}` +
        `${(l.okPerSecond / REFERENCE.pythonMonitor.perSecond).toFixed(1)}× the Python monitor's ~${REFERENCE.pythonMonitor.perSecond}/s, ` +
        `p99 ${msU(l.latencyAll.p99)} vs its ${REFERENCE.pythonMonitor.p99Ms} ms (reference from DESIGN.md, not measured in this run)`,
    );
  }
  if (sqlite && postgres) out.push(`  PostgreSQL / SQLite throughput: ${pct(postgres.okPerSecond / sqlite.okPerSecond)}`);
  if (sqlite && dups) out.push(`  duplicate redelivery / new events on SQLite: ${(dups.okPerSecond / sqlite.okPerSecond).toFixed(2)}× the throughput`);

  if (pricing) {
    out.push('');
    out.push('pricing (in-process micro-benchmark, bench/pricing-bench.ts):');
    if (pricing.status === 'ok') {
      out.push(table(['case', 'ops/s', 'notes'], pricing.rows.map((r) => [r.name, int(r.opsPerSec), r.notes]), new Set([0, 2])).replace(/^/gm, '  '));
      out.push(`  (${pricing.seconds.toFixed(1)} s)`);
    } else {
      out.push(`  ${pricing.status.toUpperCase()}: ${pricing.message}`);
    }
  }

  out.push('');
  out.push('floors on this machine (informational; the exit code does not depend on them):');
  for (const f of floorChecks(results)) out.push(`  ${f.pass ? 'PASS' : 'FAIL'}  ${f.name.padEnd(42)} ${f.measured}`);

  const contended = results.filter((r) => r.key !== 'postgres' && (r.cpu?.otherCores ?? 0) > 0.25);
  if (contended.length > 0 || Math.max(...machine.loadAverageAtStart.slice(0, 1)) > 0.5) {
    out.push('');
    out.push(
      `contention: ${contended.length > 0 ? `other processes kept ${contended.map((r) => `${cores(r.cpu?.otherCores)} cores busy during "${r.key}"`).join(', ')}` : 'the machine was busy when the benchmark started'}` +
        ` (load average at start ${machine.loadAverageAtStart[0]?.toFixed(2)}); on ${machine.cores} cores the figures are likely depressed — rerun on an idle machine to compare with the floors.`,
    );
  }
  out.push('');
  out.push(`total time ${totalSeconds.toFixed(0)} s`);
  return out.join('\n');
}
