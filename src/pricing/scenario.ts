import type { SimulationInput } from './simulation-schema.js';

/**
 * A scenario file: a simulation input, optionally wrapped with a name and the expected result
 * (`meterwatch simulate scenario.yaml --expect expected.json` compares against a separate file;
 * `expected` inside the scenario is the same thing kept in one file).
 */
export interface Scenario {
  name?: string;
  description?: string;
  simulation: SimulationInput;
  expected?: unknown;
}
