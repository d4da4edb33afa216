import autocannon from 'autocannon';

/**
 * An autocannon run for the usage-ingest scenarios: every request carries the bearer key and a body
 * from `nextBody()` (built on the fly: unique events, so nothing is a duplicate). Latency comes from
 * autocannon's per-response times (sub-millisecond precision).
 */
export interface IngestLoadOptions {
  url: string;
  path: string;
  method?: 'POST' | 'GET';
  apiKey: string;
  connections: number;
  durationSeconds: number;
  nextBody?: () => string;
  nextPath?: () => string;
  /** A response failing this counts as a mismatch. */
  verifyBody?: (body: string) => boolean;
}

export interface IngestLoadResult {
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  statusCounts: Record<string, number>;
  latency: { p50: number; p90: number; p99: number; max: number };
}

export function runIngestLoad(options: IngestLoadOptions): Promise<IngestLoadResult> {
  const headers: Record<string, string> = { authorization: `Bearer ${options.apiKey}` };
  if (options.nextBody) headers['content-type'] = 'application/json';
  const request: autocannon.RequestSpec = { method: options.method ?? 'POST', path: options.path, headers };
  request.setupRequest = (req) => {
    if (options.nextBody) req.body = options.nextBody();
    if (options.nextPath) req.path = options.nextPath();
    return req;
  };
  const latencies: number[] = [];
  const started = performance.now();
  let lastResponse = started;
  return new Promise((resolve, reject) => {
    const opts: autocannon.Options = {
      url: options.url,
      connections: options.connections,
      pipelining: 1,
      timeout: 20,
      duration: options.durationSeconds,
      requests: [request],
    };
    if (options.verifyBody) opts.verifyBody = options.verifyBody;
    const instance = autocannon(opts, (error, result) => {
      if (error) return reject(error);
      const statusCounts: Record<string, number> = {};
      for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statusCounts[code] = stat.count;
      latencies.sort((a, b) => a - b);
      const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(q * latencies.length) - 1))] ?? NaN;
      resolve({
        seconds: (lastResponse - started) / 1000,
        ok: result['2xx'],
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        mismatches: result.mismatches,
        statusCounts,
        latency: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies[latencies.length - 1] ?? NaN },
      });
    });
    instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
      lastResponse = performance.now();
      if (statusCode >= 200 && statusCode < 300 && latencies.length < 5_000_000) latencies.push(responseTimeMs);
    });
  });
}
