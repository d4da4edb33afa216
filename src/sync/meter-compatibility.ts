import type { MappingAggregation } from '../store/sync-store.js';

/** What Meterwatch needs to know about a Stripe billing meter. */
export interface MeterInfo {
  id: string;
  eventName: string;
  /** `sum`, `count` or `last` (Stripe may add others). */
  formula: string;
  status: string;
  customerKey: string;
  valueKey: string;
  /** Set on pre-aggregated meters (`hour`, `day`). */
  eventTimeWindow: string | null;
}

/**
 * Why a local counter cannot go to this meter, or undefined when it can. Meterwatch pushes a `sum`
 * counter as deltas (each event adds to the period's total) and a `max` or `last` counter as the
 * current value (the newest event is the period's value), so:
 * - sum → a `sum` meter only: a `last` meter would keep just the newest delta, a `count` meter
 *   would count the pushes.
 * - max / last → a `last` meter only: a `sum` meter would add every value pushed up.
 */
export function incompatibility(aggregation: MappingAggregation, meter: MeterInfo): string | undefined {
  const where = `Stripe meter ${meter.id} ("${meter.eventName}")`;
  if (meter.status !== 'active') return `${where} is ${meter.status}: Stripe accepts no events for it; reactivate it or use another meter`;
  if (meter.eventTimeWindow !== null)
    return `${where} is pre-aggregated per ${meter.eventTimeWindow}: Stripe treats each event as the window's total, but Meterwatch sends deltas and current values; use a meter without event_time_window`;
  const formula = meter.formula;
  if (formula === 'count')
    return `${where} counts events (formula "count"): Meterwatch pushes aggregated quantities, so the meter would count pushes, not usage; use a "sum" meter for a sum counter or a "last" meter for max/last`;
  if (aggregation === 'sum' && formula !== 'sum')
    return `a "sum" counter is pushed as deltas, which only a "sum" meter adds up; ${where} uses "${formula}", which would keep only the newest delta`;
  if ((aggregation === 'max' || aggregation === 'last') && formula !== 'last')
    return `a "${aggregation}" counter is pushed as its current value, which only a "last" meter represents; ${where} uses "${formula}", which would add every pushed value up`;
  return undefined;
}
