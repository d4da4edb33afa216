import type { Decimal } from './decimal.js';
import { InvoiceSimulator } from './invoice-simulator.js';
import type { PriceConfig } from './price-config-schema.js';
import type { CurrencyProjection, LineCost } from './projection-result.js';
import type { SimulatedLine } from './simulation-result.js';

export interface CostItem {
  metric: string;
  priceConfig: PriceConfig;
  current: Decimal;
  projected: Decimal;
}

export interface CostProjection {
  lines: Map<string, { current: LineCost; projected: LineCost }>;
  totals: CurrencyProjection[];
}

/**
 * Prices the usage so far and the projected usage with the invoice simulator (the same code as
 * `POST /v1/simulate`): each line exact and rounded once the Stripe way, totals per currency.
 */
export function projectCosts(customerRef: string, period: { start: string; end: string }, items: readonly CostItem[]): CostProjection {
  const simulator = new InvoiceSimulator();
  const simulate = (pick: (item: CostItem) => Decimal) =>
    simulator.simulate({
      customerId: customerRef,
      periodStart: period.start,
      periodEnd: period.end,
      usageItems: items.map((item) => ({ metric: item.metric, quantity: pick(item).toString(), priceConfig: item.priceConfig })),
    });
  const current = simulate((item) => item.current);
  const projected = simulate((item) => item.projected);
  const lines = new Map<string, { current: LineCost; projected: LineCost }>();
  items.forEach((item, position) => {
    lines.set(item.metric, { current: lineCost(current.lines[position]!), projected: lineCost(projected.lines[position]!) });
  });
  const projectedTotals = new Map(projected.totals.map((total) => [total.currency, total.total]));
  const totals = current.totals.map((total) => ({ currency: total.currency, current: total.total, projected: projectedTotals.get(total.currency)! }));
  return { lines, totals };
}

function lineCost(line: SimulatedLine): LineCost {
  const cost: LineCost = {
    amount: line.amount,
    usage: line.usage,
    fees: line.fees,
    adjustment: line.adjustment,
    limitApplied: line.limitApplied,
    exactAmountMinor: line.exactAmountMinor,
    tiers: line.tiers,
  };
  if (line.packages !== undefined) cost.packages = line.packages;
  return cost;
}
