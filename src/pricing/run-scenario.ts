import { InvoiceSimulator } from './invoice-simulator.js';
import { atPath } from './pricing-error.js';
import type { Scenario } from './scenario.js';
import type { SimulationResult } from './simulation-result.js';
import type { SimulationInput } from './simulation-schema.js';

/** Runs a scenario (or a bare simulation input). Pure: same scenario, same result. */
export function runScenario(scenario: Scenario | SimulationInput): SimulationResult {
  const simulator = new InvoiceSimulator();
  if ('simulation' in scenario) {
    const { simulation } = scenario;
    return atPath('simulation', () => simulator.simulate(simulation));
  }
  return simulator.simulate(scenario);
}
