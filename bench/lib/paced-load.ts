import http from 'node:http';

/**
 * An open-loop load: requests are due at a fixed rate whatever the server does, over at most
 * `connections` keep-alive sockets, and each latency is counted from the moment the request was due
 * (not from when a socket became free), so a stalled server shows up in the percentiles instead of
 * slowing the load down (coordinated omission). autocannon's `overallRate` does not do this: it
 * lets each connection send its share of a second back to back and then pause, which is a
 * saturating burst every second.
 */
export interface PacedLoadOptions {
  url: string;
  path: () => string;
  headers: Record<string, string>;
  connections: number;
  ratePerSecond: number;
  durationSeconds: number;
}

export interface PacedLoadResult {
  seconds: number;
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  latency: { p50: number; p90: number; p99: number; max: number };
}

export async function runPacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const target = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  const intervalMs = 1000 / options.ratePerSecond;
  const total = Math.round(options.ratePerSecond * options.durationSeconds);
  const started = performance.now();

  const send = (dueAt: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const request = http.request(
        { host: target.hostname, port: target.port, method: 'GET', path: options.path(), headers: options.headers, agent },
        (response) => {
          response.resume();
          response.on('end', () => {
            latencies.push(performance.now() - dueAt);
            if (response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300) ok += 1;
            else non2xx += 1;
            resolve();
          });
        },
      );
      request.on('error', () => {
        errors += 1;
        resolve();
      });
      request.end();
    });

  // Bounded: `total` requests, sent when due (a late timer sends every request already due).
  while (sent < total) {
    const now = performance.now();
    while (sent < total && started + sent * intervalMs <= now) {
      const p = send(started + sent * intervalMs);
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
      sent += 1;
    }
    const nextDue = started + sent * intervalMs;
    await new Promise((r) => setTimeout(r, Math.max(0, nextDue - performance.now())));
  }
  await Promise.all([...inFlight]);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(q * latencies.length) - 1))] ?? NaN;
  return { seconds, sent, ok, non2xx, errors, latency: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies[latencies.length - 1] ?? NaN } };
}
