import { invalidMeteringInput } from '../metering/metering-errors.js';
import type { PeriodResolver } from '../metering/period-resolver.js';
import { formatMicro, microToDecimal } from '../metering/quantity.js';
import { parseTimeInput } from '../metering/time-input.js';
import { notFound } from '../shared/app-error.js';
import type { Clock } from '../shared/clock.js';
import type { CounterRecord } from '../store/metering-store.js';
import type { UsageAggregation } from '../store/pricing-store.js';
import type { Store } from '../store/store.js';
import { projectCosts, type CostItem } from './cost-projection.js';
import { Decimal } from './decimal.js';
import type { PlanPrice, PricePlanService } from './price-plan-service.js';
import { dailyRate, projectByRate, projectLinear, rateWindow, type ProjectionMethod, type RateWindow } from './project-usage.js';
import type { MetricProjection, UsageProjection } from './projection-result.js';

export interface ProjectionRequest {
  customerRef: string;
  /** The instant projected from (default: now by the server clock). */
  asOf?: string | number | undefined;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** Usage before 2000 is refused at ingest; periods print as 4-digit-year ISO dates. */
const EARLIEST_AS_OF = Date.UTC(2000, 0, 1);
const LATEST_AS_OF = Date.UTC(10000, 0, 1);

/**
 * `POST /v1/usage/projection`: for each metric of the customer's current period (its counters and its
 * plan), the usage so far, the usage projected to the period end and what both cost.
 *
 * Usage so far is the period counter as stored when the request runs; `asOf` chooses the period and
 * the elapsed time. Sum metrics are projected from the trailing daily rate (hourly rollups) once the
 * period has MIN_RATE_HISTORY_DAYS full days, else linearly in elapsed time; max and last metrics
 * are levels and keep their current value.
 */
export class UsageProjectionService {
  constructor(
    private readonly store: Store,
    private readonly periods: PeriodResolver,
    private readonly prices: PricePlanService,
    private readonly clock: Clock,
  ) {}

  async project(tenantId: string, request: ProjectionRequest): Promise<UsageProjection> {
    const problems: string[] = [];
    const asOf = parseTimeInput('asOf', request.asOf, problems) ?? this.clock.now();
    if (problems.length === 0 && (asOf < EARLIEST_AS_OF || asOf >= LATEST_AS_OF)) problems.push('asOf must fall in the years 2000 to 9999');
    if (problems.length > 0) throw invalidMeteringInput(problems);
    const { customerRef } = request;
    if (!(await this.store.pricing.isKnownCustomer(tenantId, customerRef))) throw notFound('Customer');

    await this.periods.load(tenantId, [customerRef]);
    const period = this.periods.periodOf(tenantId, customerRef, asOf);
    const [counters, plan] = await Promise.all([
      this.store.metering.getCounters(tenantId, { customerRef, periodStart: period.start }),
      this.prices.planOf(tenantId, customerRef),
    ]);
    const byMetric = new Map(counters.map((c) => [c.metric, c]));
    const metrics = [...new Set([...byMetric.keys(), ...plan.keys()])].sort();
    const window = rateWindow(period.start, asOf);

    const projections: MetricProjection[] = [];
    const costItems: CostItem[] = [];
    for (const metric of metrics) {
      const counter = byMetric.get(metric);
      const price = plan.get(metric);
      const aggregation = price?.view.aggregation ?? 'sum';
      const current = valueOf(counter, aggregation);
      const estimate = await this.estimate(tenantId, customerRef, metric, aggregation, counter, current, { start: period.start, end: period.end, asOf, window });
      projections.push(metricProjection(metric, aggregation, counter, current, estimate, price));
      if (price) costItems.push({ metric, priceConfig: price.view.priceConfig, current, projected: estimate.projected });
    }

    const costs = projectCosts(customerRef, { start: iso(period.start), end: iso(period.end) }, costItems);
    for (const projection of projections) projection.cost = costs.lines.get(projection.metric) ?? null;
    const elapsed = Decimal.fromInteger(asOf - period.start).div(Decimal.fromInteger(period.end - period.start), 6, 'half-up');
    return {
      customerRef,
      asOf: iso(asOf),
      period: { start: iso(period.start), end: iso(period.end), source: period.source, elapsedFraction: elapsed.toString() },
      metrics: projections,
      totals: costs.totals,
    };
  }

  private async estimate(
    tenantId: string,
    customerRef: string,
    metric: string,
    aggregation: UsageAggregation,
    counter: CounterRecord | undefined,
    current: Decimal,
    at: { start: number; end: number; asOf: number; window: RateWindow | null },
  ): Promise<Estimate> {
    if (aggregation !== 'sum') return { method: 'current_value', projected: current, rate: null };
    const { window } = at;
    if (window === null) return { method: 'linear', projected: projectLinear(current, at.start, at.end, at.asOf), rate: null };
    let windowMicro = 0n;
    // No counter: nothing was recorded this period, so the window holds nothing of it either.
    if (counter) {
      const rollups = await this.store.metering.listRollups(tenantId, { customerRef, metric, fromHour: window.startMs, toHour: window.endMs });
      for (const rollup of rollups) windowMicro += rollup.sumMicro;
    }
    const windowSum = microToDecimal(windowMicro);
    return {
      method: 'daily_rate',
      projected: projectByRate(current, windowSum, window, at.end, at.asOf),
      rate: { perDay: dailyRate(windowSum, window).toString(), windowSum: windowSum.toString(), windowStart: iso(window.startMs), windowEnd: iso(window.endMs), days: window.days },
    };
  }
}

interface Estimate {
  method: ProjectionMethod;
  projected: Decimal;
  rate: MetricProjection['dailyRate'];
}

/**
 * The counter value a price applies to; no counter (or no event behind max/last) is 0. Approved
 * negative adjustments can take a sum below 0; billed usage cannot be negative, so it prices as 0.
 */
function valueOf(counter: CounterRecord | undefined, aggregation: UsageAggregation): Decimal {
  if (!counter) return Decimal.ZERO;
  const micro = (aggregation === 'sum' ? counter.sumMicro : aggregation === 'max' ? counter.maxMicro : counter.lastMicro) ?? 0n;
  return microToDecimal(micro < 0n ? 0n : micro);
}

function metricProjection(
  metric: string,
  aggregation: UsageAggregation,
  counter: CounterRecord | undefined,
  current: Decimal,
  estimate: Estimate,
  price: PlanPrice | undefined,
): MetricProjection {
  return {
    metric,
    aggregation,
    usage: {
      sum: formatMicro(counter?.sumMicro ?? 0n),
      max: counter?.maxMicro == null ? null : formatMicro(counter.maxMicro),
      last: counter?.lastMicro == null ? null : formatMicro(counter.lastMicro),
      lastTs: counter?.lastTs == null ? null : iso(counter.lastTs),
      count: counter?.eventCount ?? 0,
    },
    quantity: current.toString(),
    projectedQuantity: estimate.projected.toString(),
    method: estimate.method,
    dailyRate: estimate.rate,
    priced: price !== undefined,
    price: price
      ? { scope: price.view.scope, currency: price.view.currency, model: price.compiled.model, source: price.view.source, stripePriceId: price.view.stripePriceId }
      : null,
    cost: null,
  };
}
