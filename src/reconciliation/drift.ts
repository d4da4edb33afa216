/** One unit of a quantity in micro-units (metering stores quantities × 10^6). */
export const UNIT_MICRO = 1_000_000n;
const PPM = 1_000_000n;

export interface Drift {
  /** |local − stripe| / max(|stripe|, 1 unit), in parts per million, rounded up (never understated). */
  ppm: number;
  /** Above the epsilon: the two totals disagree. */
  drifted: boolean;
}

const abs = (v: bigint) => (v < 0n ? -v : v);

/**
 * The issue's rule, in exact integers: drift = |local − stripe| / max(|stripe|, 1 unit), compared
 * with epsilon without ever going through a float. The 1-unit floor makes "Stripe 0, local 5" a
 * drift of 500 % instead of a division by zero, and keeps tiny totals from looking huge.
 */
export function measureDrift(localMicro: bigint, stripeMicro: bigint, epsilonPpm: number): Drift {
  const diff = abs(localMicro - stripeMicro);
  const base = abs(stripeMicro) > UNIT_MICRO ? abs(stripeMicro) : UNIT_MICRO;
  const scaled = diff * PPM;
  const ppm = (scaled + base - 1n) / base;
  return { ppm: ppm > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(ppm), drifted: scaled > BigInt(epsilonPpm) * base };
}

/** 5000 ppm → "0.5%". */
export function formatPpm(ppm: number): string {
  const whole = Math.floor(ppm / 10_000);
  const frac = (ppm % 10_000).toString().padStart(4, '0').replace(/0+$/, '');
  return `${whole}${frac ? `.${frac}` : ''}%`;
}
