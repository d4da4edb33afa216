import { pathToFileURL } from 'node:url';
import { compilePrice, InvoiceSimulator, priceLine, type PriceConfig, type SimulationInput } from '../src/pricing/index.js';

export interface PricingBenchResult {
  name: string;
  opsPerSec: number;
  notes: string;
}

/** Design floor for tiered line computations in one process. */
const LINE_FLOOR_OPS_PER_SEC = 100_000;

const GRADUATED: PriceConfig = {
  model: 'graduated',
  currency: 'usd',
  tiers: [
    { upTo: 10000, unitPrice: '0.01' },
    { upTo: 50000, unitPrice: '0.008' },
    { upTo: null, unitPrice: '0.005' },
  ],
};

/** Deterministic quantities with 6 decimals spread over all three tiers (integer LCG, no Math.random). */
function benchQuantities(count: number): string[] {
  let state = 12345;
  const quantities: string[] = [];
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const units = state % 120_000;
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    quantities.push(`${units}.${String(state % 1_000_000).padStart(6, '0')}`);
  }
  return quantities;
}

/**
 * Runs `operation` in batches until `durationMs` has passed (after a short warm-up) and returns
 * operations per second. Bounded by time, not by count, so a slow machine still finishes on time.
 */
function measure(operation: (iteration: number) => void, durationMs: number): { opsPerSec: number; operations: number; elapsedMs: number } {
  const batch = 1_000;
  const warmUpEnd = performance.now() + Math.min(200, durationMs / 10);
  let iteration = 0;
  while (performance.now() < warmUpEnd) for (let i = 0; i < batch; i++) operation(iteration++);
  const start = performance.now();
  const end = start + durationMs;
  let operations = 0;
  let now = start;
  while (now < end) {
    for (let i = 0; i < batch; i++) operation(iteration++);
    operations += batch;
    now = performance.now();
  }
  const elapsedMs = now - start;
  return { opsPerSec: Math.round((operations * 1000) / elapsedMs), operations, elapsedMs };
}

export async function runPricingBench(): Promise<PricingBenchResult[]> {
  const price = compilePrice(GRADUATED);
  const quantities = benchQuantities(4096);
  let checksum = 0n; // consumed below so the work cannot be optimised away

  const line = measure((i) => {
    checksum += priceLine(price, quantities[i & 4095]).amountMinor;
  }, 2_000);

  const simulator = new InvoiceSimulator();
  const inputs: SimulationInput[] = quantities.slice(0, 256).map((quantity) => ({
    customerId: 'cus_bench',
    periodStart: '2024-01-01',
    periodEnd: '2024-02-01',
    usageItems: [{ metric: 'api_calls', quantity, priceConfig: GRADUATED }],
    taxRate: '8.25',
  }));
  const simulate = measure((i) => {
    const total = simulator.simulate(inputs[i & 255] as SimulationInput).totals[0]?.total.minor ?? 0;
    checksum += BigInt(total);
  }, 500);

  const floor = line.opsPerSec >= LINE_FLOOR_OPS_PER_SEC ? 'meets' : 'BELOW';
  return [
    {
      name: 'pricing: graduated line (3 tiers, decimal quantities)',
      opsPerSec: line.opsPerSec,
      notes:
        `${line.operations} lines in ${Math.round(line.elapsedMs)} ms; parse 6-decimal quantity string + price + round, compiled price; ` +
        `${floor} floor ${LINE_FLOOR_OPS_PER_SEC}/s; checksum ${checksum % 1000n}`,
    },
    {
      name: 'pricing: simulate one-line invoice (validate + compile + price + totals + format)',
      opsPerSec: simulate.opsPerSec,
      notes: `${simulate.operations} simulations in ${Math.round(simulate.elapsedMs)} ms; informational, no floor`,
    },
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const result of await runPricingBench()) console.log(`${result.name}: ${result.opsPerSec.toLocaleString('en-US')} ops/s (${result.notes})`);
}
