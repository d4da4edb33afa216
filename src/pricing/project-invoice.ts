import { InvoiceSimulator } from './invoice-simulator.js';
import { projectQuantity } from './project-quantity.js';
import type { SimulationResult } from './simulation-result.js';
import type { SimulationInput } from './simulation-schema.js';

export interface InvoiceProjection {
  asOf: string;
  /** The invoice if usage keeps its average rate until the period ends. */
  projected: SimulationResult;
  /** The invoice for the usage so far. */
  toDate: SimulationResult;
}

/**
 * Cost projection for `POST /v1/usage/projection`: simulates the invoice for the usage so far and
 * for each item's quantity extrapolated linearly to the period end (projectQuantity). Commitments,
 * credits and tax apply to both as they would on the real invoice.
 */
export function projectInvoice(input: SimulationInput, asOf: string): InvoiceProjection {
  const simulator = new InvoiceSimulator();
  const toDate = simulator.simulate(input);
  const projectedInput: SimulationInput = {
    ...input,
    usageItems: input.usageItems.map((item) => ({
      ...item,
      quantity: projectQuantity({ quantity: item.quantity, periodStart: input.periodStart, periodEnd: input.periodEnd, asOf }).toString(),
    })),
  };
  return { asOf, projected: simulator.simulate(projectedInput), toDate };
}
