/**
 * Scores the incidents against the injected anomalies.
 *
 * An injection is FOUND when an incident of its detector on its tenant, for its subject (customer,
 * charge, subscription or invoice; the tenant for tenant-level detectors), was opened or triggered
 * (event time, first..last trigger) inside the injection's detection window.
 * Every incident is classified: `matched` (finds an injection), `explained` (another detector's
 * injection on that tenant names this detector as a true consequence, e.g. the backlog after an
 * outage arrives late), `late` (right detector and subject, outside the window), or `false`.
 * Precision per detector = matched ÷ (all − explained). Clean tenants have no injections, so
 * every incident there is false; the floor requires none.
 */
import type { IncidentRecord } from '../../src/store/detector-store.js';
import { DETECTORS } from '../../src/detectors/rules/index.js';
import type { Injection } from './generator/types.js';
import type { SimResult } from './sim.js';

export type Verdict = 'matched' | 'explained' | 'late' | 'false';

export interface ScoredIncident {
  tenantKey: string;
  clean: boolean;
  incident: IncidentRecord;
  verdict: Verdict;
  injection: Injection | undefined;
}

export interface InjectionResult {
  injection: Injection;
  found: IncidentRecord | undefined;
  late: IncidentRecord | undefined;
}

export interface DetectorRow {
  detector: string;
  injected: number;
  found: number;
  incidents: number;
  matched: number;
  explained: number;
  late: number;
  falseAnomalous: number;
  falseClean: number;
  recall: number | undefined;
  precision: number | undefined;
}

export interface Score {
  rows: DetectorRow[];
  injections: InjectionResult[];
  incidents: ScoredIncident[];
  cleanTenantDays: number;
  cleanIncidents: number;
  allFound: boolean;
  pass: boolean;
}

const overlaps = (a0: number, a1: number, b0: number, b1: number) => a0 <= b1 && b0 <= a1;

function inWindow(inc: IncidentRecord, from: number, to: number): boolean {
  return (inc.openedAt >= from && inc.openedAt <= to) || overlaps(inc.firstTriggeredAt, inc.lastTriggeredAt, from, to);
}

function sameSubject(inj: Injection, inc: IncidentRecord, tenantId: string | undefined): boolean {
  if (inj.subjectType === 'tenant') return inc.subjectType === 'tenant' && (tenantId === undefined || inc.subjectId === tenantId);
  return inc.subjectType === inj.subjectType && inc.subjectId === inj.subjectId;
}

export function score(sim: SimResult): Score {
  const tenantIds = new Map(sim.tenants.map((t) => [t.profile.key, t.tenantId]));
  const clean = new Map(sim.tenants.map((t) => [t.profile.key, t.profile.clean]));
  const scored: ScoredIncident[] = [];
  for (const [tenantKey, list] of sim.incidents) {
    for (const incident of list) {
      const injs = sim.injections.filter((i) => i.tenantKey === tenantKey);
      const tid = tenantIds.get(tenantKey);
      const match = injs.find((i) => i.detector === incident.detector && sameSubject(i, incident, tid) && inWindow(incident, i.window.from, i.window.to));
      let verdict: Verdict = 'false';
      let injection = match;
      if (match) verdict = 'matched';
      else {
        const explainer = injs.find((i) => i.explains.includes(incident.detector) && inWindow(incident, i.startsAt, i.window.to));
        const late = injs.find((i) => i.detector === incident.detector && i.subjectType !== 'tenant' && sameSubject(i, incident, tid));
        if (explainer) {
          verdict = 'explained';
          injection = explainer;
        } else if (late) {
          verdict = 'late';
          injection = late;
        }
      }
      scored.push({ tenantKey, clean: clean.get(tenantKey) ?? true, incident, verdict, injection });
    }
  }

  const earliest = (verdict: Verdict, injection: Injection) =>
    scored
      .filter((s) => s.verdict === verdict && s.injection === injection)
      .map((s) => s.incident)
      .sort((a, b) => a.openedAt - b.openedAt)[0];
  const injections: InjectionResult[] = sim.injections.map((injection) => ({
    injection,
    found: earliest('matched', injection),
    late: earliest('late', injection),
  }));

  const rows: DetectorRow[] = DETECTORS.map((d) => {
    const name = d.name;
    const injs = injections.filter((r) => r.injection.detector === name);
    const incs = scored.filter((s) => s.incident.detector === name);
    const matched = incs.filter((s) => s.verdict === 'matched').length;
    const explained = incs.filter((s) => s.verdict === 'explained').length;
    const judged = incs.length - explained;
    const found = injs.filter((r) => r.found).length;
    return {
      detector: name,
      injected: injs.length,
      found,
      incidents: incs.length,
      matched,
      explained,
      late: incs.filter((s) => s.verdict === 'late').length,
      falseAnomalous: incs.filter((s) => s.verdict === 'false' && !s.clean).length,
      falseClean: incs.filter((s) => s.verdict === 'false' && s.clean).length,
      recall: injs.length > 0 ? found / injs.length : undefined,
      precision: judged > 0 ? matched / judged : undefined,
    };
  });

  const cleanTenants = sim.tenants.filter((t) => t.profile.clean).length;
  const days = (sim.endMs - sim.startMs) / 86_400_000;
  const cleanIncidents = scored.filter((s) => s.clean).length;
  const allFound = injections.every((r) => r.found !== undefined);
  return { rows, injections, incidents: scored, cleanTenantDays: cleanTenants * days, cleanIncidents, allFound, pass: allFound && cleanIncidents === 0 };
}
