/**
 * The few statistics the detectors share. Counts are small and noisy (20 charges an hour, 12
 * sign-ups a day), so a rule that compares a count or a rate with a baseline must allow for chance,
 * not only for the baseline's mean.
 */

/**
 * Wilson score interval of a proportion `successes / trials` at `z` standard deviations. Unlike the
 * normal approximation it stays inside [0, 1] and is honest for small counts: 0 of 20 has an upper
 * bound well above 0, 3 of 20 a lower bound well below 15 %. With no trials nothing is known: [0, 1].
 */
export function wilsonInterval(successes: number, trials: number, z: number): { lower: number; upper: number } {
  if (trials <= 0) return { lower: 0, upper: 1 };
  const p = Math.min(1, Math.max(0, successes / trials));
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denominator;
  return { lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample variance (n − 1); 0 for fewer than two values. */
export function sampleVariance(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1);
}

/**
 * How far a new count may plausibly stray from the mean of `weekly` counts (the same hours of
 * previous weeks): the larger of Poisson noise (variance = mean) and the spread those weeks actually
 * showed, widened by 1 + 1/n because the mean itself comes from only n weeks. Returns the standard
 * deviation of (new count − mean).
 */
export function countSpread(weekly: readonly number[], expected = mean(weekly)): number {
  const n = Math.max(1, weekly.length);
  return Math.sqrt(Math.max(expected, sampleVariance(weekly)) * (1 + 1 / n));
}
