import { AppError } from '../shared/app-error.js';
import type { Store } from '../store/store.js';
import { SEVERITY_RANK, HOUR_MS, type Detector, type DetectorContext, type DetectorEvent, type Severity, type Trigger } from './detector.js';
import type { DetectorSettings } from './detector-settings.js';
import { TenantDetectorData } from './detector-data.js';
import { toDetectorEvent } from './event-facts.js';
import { BUCKET_MS } from './metrics.js';
import { compareText } from '../shared/compare-text.js';

export interface BacktestInput {
  detector?: string | undefined;
  config?: Record<string, unknown> | undefined;
  sinceMs: number;
  untilMs: number;
}

export interface BacktestIncident {
  detector: string;
  subject: { type: string; id: string };
  severity: Severity;
  summary: string;
  figures: Record<string, string | number>;
  firstTriggeredAt: string;
  lastTriggeredAt: string;
  triggers: number;
  evidence: { eventIds: string[] };
}

const MAX_EVENTS = 200_000;
const MAX_RANGE_MS = 92 * 24 * HOUR_MS;

/**
 * Replays stored history through detectors with a given config and returns the incidents it would
 * have opened. Read-only: nothing is stored, nothing notified. Each minute of history is evaluated
 * as the store looked at the end of that minute (the aggregates are read with an as-of cap), and
 * schedule-driven detectors are evaluated at every hour of the range.
 */
export async function runBacktest(store: Store, settings: DetectorSettings, tenantId: string, input: BacktestInput): Promise<{ incidents: BacktestIncident[]; events: number; hours: number }> {
  if (!(input.untilMs > input.sinceMs)) throw new AppError('validation_failed', 'until must be after since');
  if (input.untilMs - input.sinceMs > MAX_RANGE_MS) throw new AppError('validation_failed', 'a backtest covers at most 92 days');
  if (input.config !== undefined && input.detector === undefined) throw new AppError('validation_failed', 'config needs a detector');

  const effective = await settings.effective(tenantId);
  const chosen: { detector: Detector<any>; config: Record<string, unknown> }[] = input.detector
    ? [{ detector: settings.get(input.detector), config: settings.validate(input.detector, { ...(effective.find((e) => e.detector.name === input.detector)?.config ?? {}), ...(input.config ?? {}) }) }]
    : effective.filter((e) => e.enabled).map((e) => ({ detector: e.detector, config: e.config }));

  const events = await loadAscending(store, tenantId, input.sinceMs, input.untilMs);
  const merged = new Map<string, BacktestIncident & { lastMs: number }>();
  const record = (detector: string, t: Trigger) => {
    const key = `${detector}|${t.subjectType}|${t.subjectId}`;
    const existing = merged.get(key);
    if (!existing) {
      merged.set(key, {
        detector,
        subject: { type: t.subjectType, id: t.subjectId },
        severity: t.severity,
        summary: t.summary,
        figures: t.figures,
        firstTriggeredAt: new Date(t.at).toISOString(),
        lastTriggeredAt: new Date(t.at).toISOString(),
        triggers: 1,
        evidence: { eventIds: [...new Set(t.eventIds)].slice(0, 100) },
        lastMs: t.at,
      });
      return;
    }
    existing.triggers += 1;
    if (SEVERITY_RANK[t.severity] > SEVERITY_RANK[existing.severity]) existing.severity = t.severity;
    if (t.at >= existing.lastMs) {
      existing.lastMs = t.at;
      existing.lastTriggeredAt = new Date(t.at).toISOString();
      existing.summary = t.summary;
      existing.figures = t.figures;
    }
    existing.evidence.eventIds = [...new Set([...existing.evidence.eventIds, ...t.eventIds])].slice(0, 100);
  };

  const ctxAt = (config: Record<string, unknown>, asOf: number): DetectorContext<Record<string, unknown>> => ({
    tenantId,
    config,
    now: asOf,
    data: new TenantDetectorData(store, tenantId, asOf),
  });

  for (const minute of groupByMinute(events)) {
    const asOf = minute.start + BUCKET_MS - 1;
    for (const { detector, config } of chosen) {
      if (!detector.evaluateEvents) continue;
      const relevant = minute.events.filter((e) => detector.eventTypes.includes(e.type));
      if (relevant.length === 0) continue;
      for (const t of await detector.evaluateEvents(ctxAt(config, asOf), relevant)) record(detector.name, t);
    }
  }
  let hours = 0;
  for (let at = Math.ceil(input.sinceMs / HOUR_MS) * HOUR_MS; at <= input.untilMs; at += HOUR_MS) {
    hours += 1;
    for (const { detector, config } of chosen) {
      if (!detector.evaluateSchedule) continue;
      for (const t of await detector.evaluateSchedule(ctxAt(config, at))) record(detector.name, t);
    }
  }
  const incidents = [...merged.values()].map(({ lastMs: _lastMs, ...incident }) => incident);
  incidents.sort((a, b) => compareText(a.firstTriggeredAt, b.firstTriggeredAt));
  return { incidents, events: events.length, hours };
}

async function loadAscending(store: Store, tenantId: string, sinceMs: number, untilMs: number): Promise<DetectorEvent[]> {
  const out: DetectorEvent[] = [];
  let before: { created: number; seq: number } | undefined;
  for (;;) {
    const page = await store.listBillingEvents(tenantId, {
      since: Math.floor(sinceMs / 1000),
      until: Math.ceil(untilMs / 1000),
      ...(before ? { before } : {}),
      limit: 5_000,
    });
    for (const r of page) out.push(toDetectorEvent(r));
    if (out.length > MAX_EVENTS) throw new AppError('validation_failed', `the range holds more than ${MAX_EVENTS} events; backtest a shorter range`);
    if (page.length < 5_000) break;
    const last = page[page.length - 1]!;
    before = { created: last.created, seq: last.seq };
  }
  return out.reverse();
}

function groupByMinute(events: DetectorEvent[]): { start: number; events: DetectorEvent[] }[] {
  const groups: { start: number; events: DetectorEvent[] }[] = [];
  for (const e of events) {
    const start = Math.floor((e.created * 1000) / BUCKET_MS) * BUCKET_MS;
    const current = groups[groups.length - 1];
    if (current && current.start === start) current.events.push(e);
    else groups.push({ start, events: [e] });
  }
  return groups;
}
