import autocannon from 'autocannon';
import type { PayloadSource } from './signed-events.js';

export interface LoadOptions {
  url: string;
  path: string;
  connections: number;
  /** Stop after this many requests (exact accounting: every request sent is answered). */
  amount?: number;
  /** Or run for this long (requests in flight at the end are cut off and not counted). */
  durationSeconds?: number;
  /** Safety net for `amount` runs: stop anyway after this long. */
  maxSeconds?: number;
  /** Signed payloads, one per request; without it every request sends `staticBody`. */
  source?: PayloadSource;
  staticBody?: string;
  /** Responses whose body differs are counted as mismatches. */
  expectBody?: string;
}

export interface LoadResult {
  /** Wall time from the start to the last response. */
  seconds: number;
  sent: number;
  completed: number;
  ok: number;
  non2xx: number;
  statusCounts: Record<string, number>;
  errors: number;
  timeouts: number;
  mismatches: number;
  /** 2xx responses per second. */
  okPerSecond: number;
  /** Latency of 2xx responses in ms (from the load generator's hrtime, not 1 ms-bucketed). */
  latency: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  /**
   * Percentiles over every request that got an answer or failed (timeout, reset): failures count as
   * infinitely slow, so a run where >1 % of requests timed out has p99 = Infinity. Non-2xx answers
   * count with their time. This is what the p99 floor is checked against.
   */
  latencyAll: { p50: number; p99: number };
  /** True when an `amount` run hit `maxSeconds` and was stopped early. */
  cutShort: boolean;
  /** 2xx/s over the second half of the run: the warmed-up rate, used to size the next run. */
  secondHalfOkPerSecond: number;
}

/**
 * One autocannon run in this process against a server in another process. With a `source`, every
 * request gets its own body and Stripe-Signature (setupRequest). Latencies are collected from the
 * per-response hrtime autocannon reports, so percentiles keep sub-millisecond precision.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const source = options.source;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const request: autocannon.RequestSpec = { method: 'POST', path: options.path, headers };
  if (source) {
    request.setupRequest = (req) => {
      const payload = source.next();
      req.body = payload.body;
      req.headers = { ...(req.headers ?? {}), 'content-type': 'application/json', 'stripe-signature': payload.signature };
      return req;
    };
  } else {
    request.body = options.staticBody ?? '{}';
  }

  const latencies = new LatencyRecorder(options.amount ?? 1 << 20);
  const withFailures = new LatencyRecorder(options.amount ?? 1 << 20);
  /** 2xx responses per 100 ms bucket since the start. */
  const buckets: number[] = [];
  let lastResponseAt = 0;
  const startedAt = performance.now();
  let cutShort = false;

  return new Promise<LoadResult>((resolve, reject) => {
    const opts: autocannon.Options = {
      url: options.url,
      connections: options.connections,
      pipelining: 1,
      timeout: 10,
      sampleInt: 250,
      requests: [request],
    };
    if (options.amount !== undefined) opts.amount = options.amount;
    else opts.duration = options.durationSeconds ?? 10;
    const expected = options.expectBody;
    // autocannon refuses expectBody together with `requests`; verifyBody is the same check.
    if (expected !== undefined) opts.verifyBody = (body) => body === expected;

    let guard: NodeJS.Timeout | undefined;
    let finished = false;
    const instance = autocannon(opts, (error, result) => {
      finished = true;
      if (guard) clearTimeout(guard);
      if (error) return reject(error);
      const seconds = ((lastResponseAt || performance.now()) - startedAt) / 1000;
      const statusCounts: Record<string, number> = {};
      for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCounts[code] = stat.count;
      const completed = Object.values(statusCounts).reduce((a, b) => a + b, 0);
      const ok = result['2xx'];
      resolve({
        seconds,
        sent: result.requests.sent ?? completed,
        completed,
        ok,
        non2xx: result.non2xx,
        statusCounts,
        errors: result.errors,
        timeouts: result.timeouts,
        mismatches: result.mismatches,
        okPerSecond: seconds > 0 ? ok / seconds : 0,
        latency: latencies.summary(),
        latencyAll: withFailures.percentiles(result.errors),
        cutShort,
        secondHalfOkPerSecond: secondHalfRate(buckets),
      });
    });
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      lastResponseAt = performance.now();
      withFailures.record(responseTimeMs);
      if (statusCode >= 200 && statusCode < 300) {
        latencies.record(responseTimeMs);
        const bucket = Math.floor((lastResponseAt - startedAt) / 100);
        buckets[bucket] = (buckets[bucket] ?? 0) + 1;
      }
    });
    if (!finished && options.amount !== undefined && options.maxSeconds !== undefined) {
      guard = setTimeout(() => {
        cutShort = true;
        instance.stop();
      }, options.maxSeconds * 1000);
    }
  });
}

function secondHalfRate(buckets: number[]): number {
  const n = buckets.length;
  if (n < 2) return 0;
  const from = Math.floor(n / 2);
  let count = 0;
  for (let i = from; i < n; i++) count += buckets[i] ?? 0;
  return count / ((n - from) * 0.1);
}

class LatencyRecorder {
  private values: Float64Array;
  private count = 0;

  constructor(expected: number) {
    this.values = new Float64Array(Math.max(1024, Math.min(expected + 1024, 4_000_000)));
  }

  record(ms: number): void {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = ms;
  }

  /** p50/p99 with `failures` extra samples at +Infinity. */
  percentiles(failures: number): { p50: number; p99: number } {
    const total = this.count + failures;
    if (total === 0) return { p50: NaN, p99: NaN };
    const sorted = this.values.slice(0, this.count).sort();
    const at = (q: number) => {
      const i = Math.min(total - 1, Math.ceil(q * total) - 1);
      return i < sorted.length ? (sorted[i] ?? NaN) : Infinity;
    };
    return { p50: at(0.5), p99: at(0.99) };
  }

  summary(): LoadResult['latency'] {
    if (this.count === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
    const sorted = this.values.subarray(0, this.count).sort();
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;
    let sum = 0;
    for (const v of sorted) sum += v;
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[sorted.length - 1] ?? NaN, mean: sum / sorted.length };
  }
}
