/** Text tables for the terminal: traffic, per-detector quality, each injection, and the misfires. */
import { simTime } from './generator/calendar.js';
import { HOUR_MS, MINUTE_MS } from './generator/types.js';
import type { Score } from './score.js';
import type { SimResult } from './sim.js';

function table(header: string[], rows: string[][], right: Set<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const pct = (x: number | undefined) => (x === undefined ? '—' : `${(x * 100).toFixed(0)}%`);
const num = (n: number) => n.toLocaleString('en-US');

function latency(ms: number): string {
  if (ms < 0) return `-${latency(-ms)}`;
  if (ms < HOUR_MS) return `${Math.round(ms / MINUTE_MS)} min`;
  if (ms < 48 * HOUR_MS) return `${(ms / HOUR_MS).toFixed(1)} h`;
  return `${(ms / (24 * HOUR_MS)).toFixed(1)} d`;
}

export function trafficTable(sim: SimResult): string {
  const rows = sim.tenants.map((t) => {
    const c = (type: string) => t.eventsByType.get(type) ?? 0;
    const attempts = c('charge.succeeded') + c('charge.failed');
    return [
      t.profile.key,
      t.profile.clean ? 'clean' : 'anomalies',
      t.profile.currencies.map((x) => x.code).join('/'),
      num(t.delivery.events),
      num(t.stored),
      num(t.delivery.redeliveries),
      num(t.duplicates),
      num(t.delivery.slow + t.delivery.retried),
      num(attempts),
      attempts > 0 ? `${((c('charge.failed') * 100) / attempts).toFixed(1)}%` : '—',
      num(c('refund.created')),
      num(c('charge.dispute.created') + c('radar.early_fraud_warning.created')),
      num(c('customer.subscription.created')),
      num(c('customer.subscription.deleted')),
      num(c('invoice.paid')),
    ];
  });
  return table(
    ['tenant', 'kind', 'currency', 'events', 'stored', 'redeliv.', 'dup. acks', 'slow', 'charges', 'declined', 'refunds', 'disp+efw', 'new subs', 'deleted', 'inv. paid'],
    rows,
    new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]),
  );
}

export function detectorTable(score: Score): string {
  const rows = score.rows.map((r) => [
    r.detector,
    String(r.injected),
    String(r.found),
    pct(r.recall),
    String(r.incidents),
    String(r.matched),
    String(r.explained),
    String(r.late),
    String(r.falseAnomalous),
    String(r.falseClean),
    pct(r.precision),
  ]);
  const total = score.rows.reduce(
    (a, r) => ({ injected: a.injected + r.injected, found: a.found + r.found, incidents: a.incidents + r.incidents, matched: a.matched + r.matched, explained: a.explained + r.explained, late: a.late + r.late, fa: a.fa + r.falseAnomalous, fc: a.fc + r.falseClean }),
    { injected: 0, found: 0, incidents: 0, matched: 0, explained: 0, late: 0, fa: 0, fc: 0 },
  );
  rows.push([
    'TOTAL',
    String(total.injected),
    String(total.found),
    pct(total.injected ? total.found / total.injected : undefined),
    String(total.incidents),
    String(total.matched),
    String(total.explained),
    String(total.late),
    String(total.fa),
    String(total.fc),
    pct(total.incidents - total.explained > 0 ? total.matched / (total.incidents - total.explained) : undefined),
  ]);
  return table(['detector', 'injected', 'found', 'recall', 'incidents', 'matched', 'explained', 'late', 'false(anom)', 'false(clean)', 'precision'], rows, new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
}

export function injectionTable(score: Score): string {
  const rows = score.injections.map((r) => {
    const inj = r.injection;
    const hit = r.found ?? r.late;
    const status = r.found ? 'FOUND' : r.late ? 'LATE' : 'MISSED';
    return [
      inj.tenantKey,
      inj.detector,
      inj.label,
      simTime(inj.startsAt),
      `${simTime(inj.window.from)} – ${simTime(inj.window.to)}`,
      status,
      hit
        ? hit.openedAt < inj.startsAt
          ? `${simTime(hit.openedAt)} (already open: merged/escalated)`
          : `${simTime(hit.openedAt)} (${latency(hit.openedAt - inj.startsAt)})`
        : '—',
      hit ? hit.severity : '',
    ];
  });
  return table(['tenant', 'detector', 'injected anomaly', 'starts', 'detection window', 'result', 'opened (after start)', 'severity'], rows);
}

export function misfireTable(score: Score, limitPerDetector = 6): string {
  const misfires = score.incidents.filter((s) => s.verdict === 'false' || s.verdict === 'late');
  if (misfires.length === 0) return '(none)';
  const byDetector = new Map<string, typeof misfires>();
  for (const m of misfires) byDetector.set(m.incident.detector, [...(byDetector.get(m.incident.detector) ?? []), m]);
  const rows: string[][] = [];
  for (const [detector, list] of [...byDetector].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort((a, b) => a.incident.openedAt - b.incident.openedAt);
    for (const m of list.slice(0, limitPerDetector)) {
      rows.push([detector, m.tenantKey, m.clean ? 'clean' : 'anom', m.verdict, simTime(m.incident.openedAt), m.incident.severity, m.incident.summary.slice(0, 150)]);
    }
    if (list.length > limitPerDetector) rows.push([detector, '', '', '', '', '', `… and ${list.length - limitPerDetector} more`]);
  }
  return table(['detector', 'tenant', 'kind', 'verdict', 'opened', 'severity', 'summary'], rows);
}

/** False incidents per detector and week of the run (week 1 has no week-over-week baseline yet). */
export function falseByWeekTable(score: Score, startMs: number, days: number): string {
  const weeks = Math.ceil(days / 7);
  const rows: string[][] = [];
  for (const r of score.rows) {
    const list = score.incidents.filter((s) => s.incident.detector === r.detector && s.verdict === 'false');
    if (list.length === 0) continue;
    const perWeek = Array.from({ length: weeks }, () => ({ clean: 0, anom: 0 }));
    for (const s of list) {
      const w = Math.min(weeks - 1, Math.floor((s.incident.openedAt - startMs) / (7 * 24 * HOUR_MS)));
      perWeek[w]![s.clean ? 'clean' : 'anom'] += 1;
    }
    rows.push([r.detector, ...perWeek.map((x) => `${x.clean}+${x.anom}`), String(list.length)]);
  }
  if (rows.length === 0) return '(none)';
  return table(['detector (clean+anomalous tenants)', ...Array.from({ length: weeks }, (_, i) => `wk${i + 1}`), 'total'], rows, new Set(Array.from({ length: weeks + 1 }, (_, i) => i + 1)));
}

/**
 * Incidents opened more than 2 h after their last trigger: a past condition reported as new (e.g.
 * after its first incident auto-resolved). Listed per detector; none is the expected count.
 */
export function staleLine(score: Score): string {
  const stale = score.incidents.filter((s) => s.incident.openedAt - s.incident.lastTriggeredAt > 2 * HOUR_MS);
  if (stale.length === 0) return 'Incidents opened more than 2 h after their last trigger (past conditions re-opened): 0';
  const by = new Map<string, number>();
  for (const s of stale) by.set(s.incident.detector, (by.get(s.incident.detector) ?? 0) + 1);
  const live = stale.filter((s) => !s.incident.historical).length;
  return `Incidents opened more than 2 h after their last trigger (past conditions re-opened): ${stale.length} (${live} live) — ${[...by].map(([d, n]) => `${d} ${n}`).join(', ')}`;
}
