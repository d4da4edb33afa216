import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { IncidentRecord, IncidentStatus, NotificationRecord } from '../store/detector-store.js';
import { SEVERITY_RANK, type Severity, type Trigger } from './detector.js';
import { incidentClosed, incidentNotFound } from './detector-errors.js';

const MAX_EVIDENCE = 100;
const SCORE: Record<Severity, number> = { info: 40, warning: 70, critical: 95 };

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
  constructor(
    private readonly store: Store,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    readonly policy: IncidentPolicy,
  ) {}

  async applyTrigger(tenantId: string, detector: string, trigger: Trigger, historical: boolean): Promise<void> {
    const now = this.clock.now();
    const until = await this.store.detectors.getSuppressionUntil(tenantId, detector, trigger.subjectType, trigger.subjectId);
    if (until !== undefined && until > now) return;

    const activeKey = `${detector}|${trigger.subjectType}|${trigger.subjectId}`;
    await this.store.detectors.flagEvents(tenantId, trigger.eventIds, SCORE[trigger.severity]);
    for (let attempt = 0; attempt < 3; attempt++) {
      const active = await this.store.detectors.getActiveIncident(tenantId, activeKey);
      if (active) return this.merge(active, trigger, historical, now);
      const incident: IncidentRecord = {
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
      if (await this.store.detectors.insertIncident(incident)) {
        if (!historical) await this.notify(incident, 'open', incident.severity);
        return;
      }
      // Another writer opened it between our read and insert: merge into theirs.
    }
  }

  private async merge(active: IncidentRecord, trigger: Trigger, historical: boolean, now: number): Promise<void> {
    const evidence = [...new Set([...active.evidence, ...trigger.eventIds])].slice(-MAX_EVIDENCE);
    const escalates = SEVERITY_RANK[trigger.severity as Severity] > SEVERITY_RANK[active.severity as Severity];
    const becomesLive = active.historical && !historical;
    const newer = trigger.at >= active.lastTriggeredAt;
    const updated = await this.store.detectors.updateIncident(active.tenantId, active.id, {
      evidence,
      lastTriggeredAt: Math.max(active.lastTriggeredAt, trigger.at),
      updatedAt: now,
      clearSince: null,
      ...(escalates ? { severity: trigger.severity } : {}),
      ...(becomesLive ? { historical: false } : {}),
      ...(newer || escalates ? { summary: trigger.summary, figures: trigger.figures } : {}),
    });
    if (!updated || updated.historical) return;
    if (becomesLive) await this.notify(updated, 'open', updated.severity);
    else if (escalates) await this.notify(updated, 'escalate', updated.severity);
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
