import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface PricingBenchRow {
  name: string;
  opsPerSec: number;
  notes: string;
}

export type PricingOutcome =
  | { status: 'ok'; rows: PricingBenchRow[]; seconds: number }
  | { status: 'absent' | 'failed'; message: string };

/**
 * Scenario 5: the pricing micro-benchmark, when `bench/pricing-bench.ts` exists (written separately;
 * it exports `runPricingBench()`). Loaded by a computed specifier so this file compiles, and the
 * whole benchmark runs, without it.
 */
export async function runPricing(): Promise<PricingOutcome> {
  const specifier = new URL('../pricing-bench.js', import.meta.url);
  if (!fs.existsSync(fileURLToPath(specifier))) {
    return { status: 'absent', message: 'bench/pricing-bench.ts not present: pricing scenario skipped' };
  }
  try {
    const mod = (await import(specifier.href)) as { runPricingBench?: unknown };
    if (typeof mod.runPricingBench !== 'function') {
      return { status: 'failed', message: 'bench/pricing-bench.js does not export runPricingBench()' };
    }
    const started = performance.now();
    const raw: unknown = await (mod.runPricingBench as () => Promise<unknown>)();
    const seconds = (performance.now() - started) / 1000;
    if (!Array.isArray(raw)) return { status: 'failed', message: 'runPricingBench() did not return an array' };
    const rows = raw.map((r: unknown): PricingBenchRow => {
      const o = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
      return {
        name: typeof o.name === 'string' ? o.name : String(o.name),
        opsPerSec: typeof o.opsPerSec === 'number' ? o.opsPerSec : Number(o.opsPerSec),
        notes: typeof o.notes === 'string' ? o.notes : o.notes === undefined ? '' : String(o.notes),
      };
    });
    return { status: 'ok', rows, seconds };
  } catch (error) {
    return { status: 'failed', message: `pricing bench threw: ${(error as Error).stack ?? String(error)}` };
  }
}
