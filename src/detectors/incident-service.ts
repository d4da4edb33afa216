import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { IncidentPatch, IncidentRecord, IncidentStatus, NotificationRecord } from '../store/detector-store.js';
import { SEVERITY_RANK, type Severity, type Trigger } from './detector.js';
import { incidentClosed, incidentNotFound } from './detector-errors.js';

const MAX_EVIDENCE = 100;
/** Evidence events flagged per trigger. */
const FLAG_LIMIT = 500;
/** Events remembered as flagged (with their score) so a still-firing incident does not flag them again; bounded small (~2 MB), since a forgotten one costs only an UPDATE that changes nothing. */
const FLAG_CACHE_SIZE = 20_000;
const SCORE: Record<Severity, number> = { info: 40, warning: 70, critical: 95 };

export interface TriggerToApply {
  detector: string;
  trigger: Trigger;
  historical: boolean;
}

/** The evidence after a trigger: the union, oldest first, keeping the newest `MAX_EVIDENCE`. */
function mergeEvidence(evidence: string[], eventIds: string[]): string[] {
  return [...new Set([...evidence, ...eventIds])].slice(-MAX_EVIDENCE);
}

function sameFigures(a: Record<string, string | number>, b: Record<string, string | number>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/**
 * Whether folding the triggers changed anything but `updatedAt`: an incident that keeps firing with
 * the evidence, severity and figures it already has costs no write.
 */
function changed(before: IncidentRecord, after: IncidentRecord): boolean {
  return (
    before.clearSince !== null ||
    before.lastTriggeredAt !== after.lastTriggeredAt ||
    before.severity !== after.severity ||
    before.historical !== after.historical ||
    before.summary !== after.summary ||
    !sameFigures(before.figures, after.figures) ||
    before.evidence.length !== after.evidence.length ||
    before.evidence.some((id, i) => after.evidence[i] !== id)
  );
}

interface PendingUpdate {
  incident: IncidentRecord;
  patch: IncidentPatch;
  notes: { kind: NotificationRecord['kind']; severity: string }[];
}

export interface IncidentPolicy {
  /** How long a condition must stay clear before an incident auto-resolves. */
  resolveAfterMs: number;
  /** Default false-positive suppression. */
  suppressForMs: number;
}

/**
 * Incident lifecycle. One active incident per (tenant, detector, subject): the first trigger opens
 * it and emits an `open` notification, later triggers add evidence silently, a higher severity
 * escalates (one `escalate` per severity), and a clear condition resolves it. Notifications are
 * durable rows with a dedupe key, so re-applying a trigger never notifies twice. Historical
 * incidents (backfill, events older than the live horizon) never notify.
 */
export class IncidentService {
  /** Tenant and event id → the score this process flagged it with (bounded; oldest forgotten first). */
  private readonly flagged = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    readonly policy: IncidentPolicy,
  ) {}

  async applyTrigger(tenantId: string, detector: string, trigger: Trigger, historical: boolean): Promise<void> {
    await this.applyTriggers(tenantId, [{ detector, trigger, historical }]);
  }

  /**
   * Applies a batch's triggers with the same outcome as applying them one by one, in order: the
   * triggers of one incident key are folded in memory (open, merges, escalations, each with the
   * notification it would have recorded) and written once; suppressions and active incidents are
   * read once for the batch; evidence is flagged once per event and score, skipping events this
   * process already flagged at that score or above (flags only ever go up). An incident that the
   * batch leaves as it was (same evidence, severity, figures) is not written at all.
   */
  async applyTriggers(tenantId: string, items: TriggerToApply[]): Promise<void> {
    if (items.length === 0) return;
    const now = this.clock.now();
    const keyOf = (i: TriggerToApply) => `${i.detector}|${i.trigger.subjectType}|${i.trigger.subjectId}`;
    const suppressed = new Set((await this.store.detectors.listActiveSuppressions(tenantId, now)).map((s) => `${s.detector}|${s.subjectType}|${s.subjectId}`));
    const groups = new Map<string, TriggerToApply[]>();
    for (const item of items) {
      const key = keyOf(item);
      if (suppressed.has(key)) continue;
      const list = groups.get(key);
      if (list) list.push(item);
      else groups.set(key, [item]);
    }
    if (groups.size === 0) return;

    await this.flag(tenantId, [...groups.values()].flat());
    const actives = new Map((await this.store.detectors.getActiveIncidents(tenantId, [...groups.keys()])).map((i) => [i.activeKey!, i]));
    const updates: PendingUpdate[] = [];
    for (const [activeKey, list] of groups) {
      const update = await this.applyGroup(tenantId, activeKey, list, actives.get(activeKey), now);
      if (update) updates.push(update);
    }
    const found = await this.store.detectors.updateIncidents(tenantId, updates.map((u) => ({ id: u.incident.id, patch: u.patch })));
    for (const [i, u] of updates.entries()) if (found[i]) for (const note of u.notes) await this.notify(u.incident, note.kind, note.severity);
  }

  /** Each trigger flags its first 500 distinct evidence events with its severity's score. */
  private async flag(tenantId: string, items: TriggerToApply[]): Promise<void> {
    const wanted = new Map<string, number>();
    for (const { trigger } of items) {
      const score = SCORE[trigger.severity];
      for (const id of [...new Set(trigger.eventIds)].slice(0, FLAG_LIMIT)) {
        if ((wanted.get(id) ?? 0) >= score) continue;
        if ((this.flagged.get(`${tenantId}\u0000${id}`) ?? 0) >= score) continue;
        wanted.set(id, score);
      }
    }
    const byScore = new Map<number, string[]>();
    for (const [id, score] of wanted) {
      const list = byScore.get(score);
      if (list) list.push(id);
      else byScore.set(score, [id]);
    }
    for (const [score, ids] of byScore) {
      for (let i = 0; i < ids.length; i += FLAG_LIMIT) {
        const chunk = ids.slice(i, i + FLAG_LIMIT);
        await this.store.detectors.flagEvents(tenantId, chunk, score);
        for (const id of chunk) this.rememberFlag(`${tenantId}\u0000${id}`, score);
      }
    }
  }

  private rememberFlag(key: string, score: number): void {
    this.flagged.delete(key);
    this.flagged.set(key, score);
    if (this.flagged.size > FLAG_CACHE_SIZE) this.flagged.delete(this.flagged.keys().next().value!);
  }

  /**
   * One incident key's triggers, folded in order onto the active incident (or a new one). A new
   * incident is inserted here; an existing one that changed comes back as an update (written with
   * the batch's others in one transaction, then its notifications recorded).
   */
  private async applyGroup(tenantId: string, activeKey: string, list: TriggerToApply[], active: IncidentRecord | undefined, now: number): Promise<PendingUpdate | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const notes: { kind: NotificationRecord['kind']; severity: string }[] = [];
      let state: IncidentRecord | undefined = active;
      let isNew = false;
      for (const { detector, trigger, historical } of list) {
        if (!state) {
          state = {
            id: this.ids.next('anm'),
            tenantId,
            detector,
            subjectType: trigger.subjectType,
            subjectId: trigger.subjectId,
            status: 'open',
            severity: trigger.severity,
            historical,
            summary: trigger.summary,
            figures: trigger.figures,
            evidence: [...new Set(trigger.eventIds)].slice(0, MAX_EVIDENCE),
            firstTriggeredAt: trigger.at,
            lastTriggeredAt: trigger.at,
            openedAt: now,
            updatedAt: now,
            clearSince: null,
            acknowledgedAt: null,
            acknowledgedBy: null,
            resolvedAt: null,
            resolutionActor: null,
            resolutionReason: null,
            activeKey,
          };
          isNew = true;
          if (!historical) notes.push({ kind: 'open', severity: state.severity });
          continue;
        }
        const escalates = SEVERITY_RANK[trigger.severity as Severity] > SEVERITY_RANK[state.severity as Severity];
        const becomesLive = state.historical && !historical;
        const newer = trigger.at >= state.lastTriggeredAt;
        state = {
          ...state,
          evidence: mergeEvidence(state.evidence, trigger.eventIds),
          lastTriggeredAt: Math.max(state.lastTriggeredAt, trigger.at),
          updatedAt: now,
          clearSince: null,
          ...(escalates ? { severity: trigger.severity } : {}),
          ...(becomesLive ? { historical: false } : {}),
          ...(newer || escalates ? { summary: trigger.summary, figures: trigger.figures } : {}),
        };
        if (state.historical) continue;
        if (becomesLive) notes.push({ kind: 'open', severity: state.severity });
        else if (escalates) notes.push({ kind: 'escalate', severity: state.severity });
      }
      if (!state) return undefined;

      if (!isNew) {
        if (!active || !changed(active, state)) return undefined;
        const patch: IncidentPatch = {
          evidence: state.evidence,
          lastTriggeredAt: state.lastTriggeredAt,
          updatedAt: now,
          clearSince: null,
          ...(state.severity !== active.severity ? { severity: state.severity } : {}),
          ...(state.historical !== active.historical ? { historical: state.historical } : {}),
          ...(state.summary !== active.summary || !sameFigures(state.figures, active.figures) ? { summary: state.summary, figures: state.figures } : {}),
        };
        return { incident: state, patch, notes };
      }
      if (!(await this.store.detectors.insertIncident(state))) {
        // Another writer opened it between our read and insert: fold the same triggers into theirs.
        active = await this.store.detectors.getActiveIncident(tenantId, activeKey);
        continue;
      }
      for (const note of notes) await this.notify(state, note.kind, note.severity);
      return undefined;
    }
    return undefined;
  }

  /** The detector says the condition is gone (or still there) at `now`: track quiet time, resolve. */
  async observeClear(incident: IncidentRecord, stillFiring: boolean): Promise<void> {
    const now = this.clock.now();
    if (stillFiring) {
      if (incident.clearSince !== null) await this.store.detectors.updateIncident(incident.tenantId, incident.id, { clearSince: null, updatedAt: now });
      return;
    }
    if (incident.clearSince === null) {
      await this.store.detectors.updateIncident(incident.tenantId, incident.id, { clearSince: now, updatedAt: now });
      if (this.policy.resolveAfterMs > 0) return;
    } else if (now - incident.clearSince < this.policy.resolveAfterMs) return;
    await this.close(incident, 'resolved', 'system', 'condition cleared', now);
  }

  async acknowledge(tenantId: string, id: string, actor: string): Promise<IncidentRecord> {
    const incident = await this.requireActive(tenantId, id);
    const now = this.clock.now();
    return (await this.store.detectors.updateIncident(tenantId, id, { status: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor, updatedAt: now })) ?? incident;
  }

  async resolve(tenantId: string, id: string, actor: string, reason: string | null): Promise<IncidentRecord> {
    const incident = await this.requireActive(tenantId, id);
    return this.close(incident, 'resolved', actor, reason, this.clock.now());
  }

  /** Closes as a false positive and suppresses this detector for this subject for a while. */
  async markFalsePositive(tenantId: string, id: string, actor: string, reason: string, suppressForMs?: number): Promise<IncidentRecord> {
    const incident = await this.requireActive(tenantId, id);
    const now = this.clock.now();
    await this.store.detectors.putSuppression(tenantId, incident.detector, incident.subjectType, incident.subjectId, now + (suppressForMs ?? this.policy.suppressForMs));
    return this.close(incident, 'false_positive', actor, reason, now);
  }

  async get(tenantId: string, id: string): Promise<IncidentRecord> {
    const incident = await this.store.detectors.getIncident(tenantId, id);
    if (!incident) throw incidentNotFound();
    return incident;
  }

  private async requireActive(tenantId: string, id: string): Promise<IncidentRecord> {
    const incident = await this.get(tenantId, id);
    if (incident.activeKey === null) throw incidentClosed(incident.status);
    return incident;
  }

  private async close(incident: IncidentRecord, status: IncidentStatus, actor: string, reason: string | null, now: number): Promise<IncidentRecord> {
    const updated = await this.store.detectors.updateIncident(incident.tenantId, incident.id, {
      status,
      activeKey: null,
      resolvedAt: now,
      resolutionActor: actor,
      resolutionReason: reason,
      updatedAt: now,
    });
    if (updated && !updated.historical && status === 'resolved') await this.notify(updated, 'resolve', updated.severity);
    return updated ?? incident;
  }

  private async notify(incident: IncidentRecord, kind: NotificationRecord['kind'], severity: string): Promise<void> {
    await this.store.detectors.insertNotification({
      id: this.ids.next('ntf'),
      tenantId: incident.tenantId,
      incidentId: incident.id,
      detector: incident.detector,
      kind,
      severity,
      dedupeKey: kind === 'escalate' ? `${incident.id}:escalate:${severity}` : `${incident.id}:${kind}`,
      createdAt: this.clock.now(),
    });
  }
}
