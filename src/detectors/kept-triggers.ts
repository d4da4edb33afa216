import { SEVERITY_RANK, type Trigger } from './detector.js';

/**
 * A batch can fire at many window ends; per condition (key) this keeps the earliest, the latest and
 * the most severe trigger. They merge into one incident anyway; the latest is kept because it is the
 * one most likely to be live (deciding events inside the live horizon), the most severe for escalation.
 */
export class KeptTriggers {
  private readonly byKey = new Map<string, { first: Trigger; last: Trigger; worst: Trigger }>();

  offer(key: string, t: Trigger): void {
    const k = this.byKey.get(key);
    if (!k) return void this.byKey.set(key, { first: t, last: t, worst: t });
    if (t.at < k.first.at) k.first = t;
    if (t.at >= k.last.at) k.last = t;
    if (SEVERITY_RANK[t.severity] > SEVERITY_RANK[k.worst.severity]) k.worst = t;
  }

  triggers(): Trigger[] {
    const out = new Set<Trigger>();
    for (const { first, last, worst } of this.byKey.values()) for (const t of [first, worst, last]) out.add(t);
    return [...out].sort((a, b) => a.at - b.at);
  }
}
