import { parseExactYaml } from './parse-exact-yaml.js';
import { PricingError } from './pricing-error.js';
import type { Scenario } from './scenario.js';
import type { SimulationInput } from './simulation-schema.js';

/**
 * Reads a scenario from JSON (`.json`) or YAML (`.yaml`, `.yml`; anything else is tried as JSON, then
 * YAML). Numbers keep their exact decimal value (see parse-exact-yaml.ts). Accepts either a bare
 * simulation input or `{name?, description?, simulation, expected?}`. Shape and meaning of the
 * simulation are checked when it runs (runScenario), where errors carry their path.
 */
export function parseScenario(text: string, filename: string): Scenario {
  const document = parseDocument(text, filename);
  return toScenario(document, filename);
}

/** Parses a JSON or YAML expected-result file with the same exact-number rules. */
export function parseExpected(text: string, filename: string): unknown {
  return parseDocument(text, filename);
}

function parseDocument(text: string, filename: string): unknown {
  const lower = filename.toLowerCase();
  if (lower.endsWith('.json')) return parseJson(text, filename);
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return parseYaml(text, filename);
  try {
    return parseJson(text, filename);
  } catch {
    return parseYaml(text, filename);
  }
}

function parseJson(text: string, filename: string): unknown {
  let plain: unknown;
  try {
    plain = JSON.parse(text);
  } catch (error) {
    throw new PricingError('INVALID_SCENARIO', `${filename} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    // JSON.parse validated the syntax; the YAML JSON schema re-reads it keeping numbers exact.
    return parseExactYaml(text, 'json');
  } catch {
    return plain;
  }
}

function parseYaml(text: string, filename: string): unknown {
  try {
    return parseExactYaml(text);
  } catch (error) {
    throw new PricingError('INVALID_SCENARIO', `${filename} is not valid YAML: ${(error as Error).message}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function toScenario(document: unknown, filename: string): Scenario {
  if (!isRecord(document)) throw new PricingError('INVALID_SCENARIO', `${filename} must contain an object`);
  if (!('simulation' in document)) return { simulation: document as SimulationInput };
  const { name, description, simulation, expected, ...rest } = document;
  const unknownKeys = Object.keys(rest);
  if (unknownKeys.length > 0) {
    throw new PricingError('INVALID_SCENARIO', `${filename}: unknown scenario field(s) ${unknownKeys.join(', ')}`);
  }
  if (name !== undefined && typeof name !== 'string') throw new PricingError('INVALID_SCENARIO', 'name must be a string', 'name');
  if (description !== undefined && typeof description !== 'string') {
    throw new PricingError('INVALID_SCENARIO', 'description must be a string', 'description');
  }
  if (!isRecord(simulation)) throw new PricingError('INVALID_SCENARIO', 'simulation must be an object', 'simulation');
  const scenario: Scenario = { simulation: simulation as SimulationInput };
  if (name !== undefined) scenario.name = name;
  if (description !== undefined) scenario.description = description;
  if (expected !== undefined) scenario.expected = expected;
  return scenario;
}
