/**
 * Deterministic PRNG for property tests (mulberry32): integer-only, so generated prices and
 * quantities never pass through floating point. A failing case is reproducible from its seed.
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [min, max] (inclusive); ranges up to 2^32. */
  int(min: number, max: number): number {
    return min + (this.nextUint32() % (max - min + 1));
  }

  /** A decimal string with up to `maxInteger` integer value and exactly `decimals` decimal digits. */
  decimalString(maxInteger: number, decimals: number): string {
    const integer = this.int(0, maxInteger);
    if (decimals === 0) return String(integer);
    const fraction = Array.from({ length: decimals }, () => String(this.int(0, 9))).join('');
    return `${integer}.${fraction}`;
  }

  pick<T>(items: readonly T[]): T {
    const item = items[this.int(0, items.length - 1)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}
