/**
 * customer_failure_cluster — one customer's charges keep failing in a short burst (card testing, a
 * broken retry loop, a customer hammering a declined card).
 *
 * Fires when one customer has ≥ `minFailures` (default 5) DISTINCT failed charges whose Stripe
 * `created` times all lie within `windowMinutes` (default 10) of each other (last − first ≤ 10 min),
 * in any such window that contains a newly stored failure. Failures are read back from the store
 * (`charge.failed` events of that customer), so arrival order does not matter: a late failure
 * completes a cluster with the ones already stored.
 *
 * Counting: distinct charges (the charge id; the event id when the object has none). One failed
 * charge delivered 10 times is one failure (the store keeps the event once), and two events about
 * the same charge also count once.
 *
 * Does not fire: 4 failures in 10 minutes; 5 failures spread over more than 10 minutes (e.g. the
 * fifth 10 min 1 s after the first); failures of different customers (each customer is judged alone);
 * failures without a customer (nothing to group them by).
 *
 * Severity: `warning`; `critical` at ≥ 2 × `minFailures` in one window (10 by default).
 * Subject: the customer. Auto-resolves: `stillFiring` is true while the window ending at `ctx.now`
 * still holds ≥ `minFailures` failures of that customer; after the burst stops the engine resolves it.
 */
import { Type } from '@sinclair/typebox';
import { type Detector, type DetectorContext, type DetectorEvent, type OpenIncident, type Severity, type Trigger } from '../detector.js';
import { compareText } from '../../shared/compare-text.js';

export interface CustomerFailureClusterConfig extends Record<string, unknown> {
  minFailures: number;
  windowMinutes: number;
}

const configSchema = Type.Object(
  {
    minFailures: Type.Integer({ minimum: 2, maximum: 1000 }),
    windowMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
  },
  { additionalProperties: false },
);

const defaults: CustomerFailureClusterConfig = { minFailures: 5, windowMinutes: 10 };

/** Failures read per customer window; far above any threshold, bounded for a customer under attack. */
const READ_LIMIT = 5000;
/** Failures read at once for a batch's customers before falling back to one read per customer. */
const SHARED_READ_LIMIT = 10_000; // the most DetectorData reads at once

type Ctx = DetectorContext<CustomerFailureClusterConfig>;

interface Failure {
  key: string;
  eventId: string;
  created: number;
}

/** Distinct failed charges, earliest event per charge, sorted by time. */
function distinctFailures(events: Pick<DetectorEvent, 'eventId' | 'objectId' | 'created'>[]): Failure[] {
  const byKey = new Map<string, Failure>();
  for (const e of events) {
    const key = e.objectId ?? `evt:${e.eventId}`;
    const prev = byKey.get(key);
    if (!prev || e.created < prev.created || (e.created === prev.created && e.eventId < prev.eventId)) {
      byKey.set(key, { key, eventId: e.eventId, created: e.created });
    }
  }
  return [...byKey.values()].sort((a, b) => a.created - b.created || compareText(a.eventId, b.eventId));
}

/** The densest window [s, s + span] (seconds) among those containing `t`; ties go to the earliest. */
function densestWindowContaining(failures: Failure[], t: number, spanSeconds: number): Failure[] {
  let best: Failure[] = [];
  let j = 0;
  for (let i = 0; i < failures.length; i += 1) {
    const start = failures[i]!.created;
    if (start > t) break;
    if (start + spanSeconds < t) continue;
    if (j < i) j = i;
    while (j + 1 < failures.length && failures[j + 1]!.created <= start + spanSeconds) j += 1;
    if (j - i + 1 > best.length) best = failures.slice(i, j + 1);
  }
  return best;
}

async function failuresOf(ctx: Ctx, customer: string, sinceSeconds: number, untilSeconds: number): Promise<Failure[]> {
  // Keys only: a customer under attack may have hundreds of failures in the window, and only their ids and times matter.
  const events = await ctx.data.eventKeys({ types: ['charge.failed'], customer, since: sinceSeconds, until: untilSeconds, limit: READ_LIMIT });
  return distinctFailures(events);
}

interface Group {
  customer: string;
  events: DetectorEvent[];
  since: number;
  until: number;
}

/**
 * The failures of every group, read for all of them at once: groups whose ranges lie close together
 * (a live batch: all of them) share one read of all their customers' failures, from which each group
 * takes exactly what its own read would have returned (its customer and range, newest first, at most
 * READ_LIMIT). A shared read that comes back full falls back to one read per group.
 */
async function failuresOfGroups(ctx: Ctx, groups: Group[], span: number): Promise<Failure[][]> {
  const out: Failure[][] = new Array(groups.length);
  const order = groups.map((_, i) => i).sort((a, b) => groups[a]!.since - groups[b]!.since);
  let k = 0;
  while (k < order.length) {
    const members = [order[k]!];
    let until = groups[order[k]!]!.until;
    while (k + 1 < order.length && groups[order[k + 1]!]!.since <= until + span) {
      k += 1;
      members.push(order[k]!);
      until = Math.max(until, groups[order[k]!]!.until);
    }
    k += 1;
    const since = groups[members[0]!]!.since;
    const customers = [...new Set(members.map((m) => groups[m]!.customer))];
    const shared = await ctx.data.eventKeys({ types: ['charge.failed'], customers, since, until, limit: SHARED_READ_LIMIT });
    for (const m of members) {
      const g = groups[m]!;
      out[m] =
        shared.length >= SHARED_READ_LIMIT
          ? await failuresOf(ctx, g.customer, g.since, g.until)
          : distinctFailures(shared.filter((e) => e.customer === g.customer && e.created >= g.since && e.created < g.until).slice(0, READ_LIMIT));
    }
  }
  return out;
}

function severityOf(cfg: CustomerFailureClusterConfig, count: number): Severity {
  return count >= 2 * cfg.minFailures ? 'critical' : 'warning';
}

async function evaluateEvents(ctx: Ctx, events: DetectorEvent[]): Promise<Trigger[]> {
  const cfg = ctx.config;
  const span = cfg.windowMinutes * 60;
  const byCustomer = new Map<string, DetectorEvent[]>();
  for (const e of events) {
    if (e.type !== 'charge.failed' || !e.customer) continue;
    const list = byCustomer.get(e.customer) ?? [];
    list.push(e);
    byCustomer.set(e.customer, list);
  }

  // Group each customer's failures whose ±span ranges overlap; each group's range is read once.
  const groups: Group[] = [];
  for (const [customer, list] of byCustomer) {
    list.sort((a, b) => a.created - b.created);
    let g = 0;
    while (g < list.length) {
      let h = g;
      while (h + 1 < list.length && list[h + 1]!.created - list[h]!.created <= 2 * span) h += 1;
      const group = list.slice(g, h + 1);
      groups.push({ customer, events: group, since: group[0]!.created - span, until: group[group.length - 1]!.created + span + 1 });
      g = h + 1;
    }
  }
  const read = await failuresOfGroups(ctx, groups, span);

  const triggers: Trigger[] = [];
  for (const [gi, { customer, events: group }] of groups.entries()) {
    const failures = read[gi]!;
    for (const e of group) {
      const window = densestWindowContaining(failures, e.created, span);
      if (window.length < cfg.minFailures) continue;
      const first = window[0]!;
      const last = window[window.length - 1]!;
      triggers.push({
        subjectType: 'customer',
        subjectId: customer,
        severity: severityOf(cfg, window.length),
        summary: `Customer ${customer} had ${window.length} failed charges within ${cfg.windowMinutes} minutes (${new Date(first.created * 1000).toISOString()} to ${new Date(last.created * 1000).toISOString()})`,
        figures: {
          customer,
          failures: window.length,
          minFailures: cfg.minFailures,
          windowMinutes: cfg.windowMinutes,
          firstFailureAt: new Date(first.created * 1000).toISOString(),
          lastFailureAt: new Date(last.created * 1000).toISOString(),
        },
        eventIds: window.map((f) => f.eventId),
        at: e.created * 1000,
      });
    }
  }
  return triggers;
}

async function stillFiring(ctx: Ctx, incident: OpenIncident): Promise<boolean> {
  if (incident.subjectType !== 'customer') return false;
  const nowSeconds = Math.floor(ctx.now / 1000);
  const span = ctx.config.windowMinutes * 60;
  const failures = await failuresOf(ctx, incident.subjectId, nowSeconds - span, nowSeconds + 1);
  return failures.length >= ctx.config.minFailures;
}

export const customerFailureCluster: Detector<CustomerFailureClusterConfig> = {
  name: 'customer_failure_cluster',
  description: 'One customer with several distinct failed charges within a few minutes (event time).',
  configSchema,
  defaults,
  eventTypes: ['charge.failed'],
  evaluateEvents,
  stillFiring,
};
