import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net, { type LookupFunction } from 'node:net';
import { checkAddress } from './address-policy.js';

/**
 * The only way alert code talks HTTP to the outside, with the SSRF rules of `src/alerts/README.md`:
 * http(s) only; the host is resolved here and EVERY address it resolves to must pass
 * `checkAddress`; the socket then connects to the address that was checked (a custom `lookup`, so a
 * second DNS answer cannot swap in another address); redirects are never followed; the response
 * body is read up to a cap; one deadline covers DNS, connect, request and response.
 */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface OutboundOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  /** Bytes of response body kept (for error messages); the rest is not read. */
  maxResponseBytes?: number;
  resolve?: Resolver;
  signal?: AbortSignal;
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export type OutboundFailure = 'invalid_url' | 'refused' | 'dns' | 'timeout' | 'network' | 'aborted';

export class OutboundError extends Error {
  constructor(
    readonly reason: OutboundFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

export const systemResolver: Resolver = async (hostname) => {
  const answers = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** Parses an alert URL: http(s), a host, no fragments games. Throws `invalid_url`. */
export function parseTargetUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundError('invalid_url', 'not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundError('invalid_url', 'only http and https URLs are allowed');
  if (url.hostname === '') throw new OutboundError('invalid_url', 'the URL has no host');
  return url;
}

/** The URL's hostname without IPv6 brackets (the WHATWG parser already turned 2130706433 or 0x7f.1 into dotted form). */
const bareHost = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, '$1');

/**
 * Resolves the URL's host and checks every answer; returns the address to connect to. A DNS
 * answer mixing public and private addresses is refused as a whole (DNS rebinding).
 */
export async function resolveTarget(url: URL, options: Pick<OutboundOptions, 'allowPrivate' | 'resolve'>): Promise<ResolvedAddress> {
  const host = bareHost(url);
  if (net.isIP(host) !== 0) {
    const verdict = checkAddress(host, options.allowPrivate);
    if (!verdict.allowed) throw new OutboundError('refused', `target refused: ${verdict.reason}`);
    return { address: host, family: net.isIP(host) === 6 ? 6 : 4 };
  }
  let answers: ResolvedAddress[];
  try {
    answers = await (options.resolve ?? systemResolver)(host);
  } catch (error) {
    throw new OutboundError('dns', `cannot resolve the host (${(error as NodeJS.ErrnoException).code ?? 'DNS error'})`);
  }
  if (answers.length === 0) throw new OutboundError('dns', 'the host has no address');
  for (const answer of answers) {
    const verdict = checkAddress(answer.address, options.allowPrivate);
    if (!verdict.allowed) throw new OutboundError('refused', `target refused: the host resolves to a ${verdict.reason}`);
  }
  return answers[0]!;
}

export async function postOutbound(rawUrl: string, body: string, headers: Record<string, string>, options: OutboundOptions): Promise<OutboundResponse> {
  const url = parseTargetUrl(rawUrl);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new OutboundError('timeout', `no response within ${options.timeoutMs} ms`)), options.timeoutMs);
  const onAbort = () => controller.abort(new OutboundError('aborted', 'delivery interrupted by shutdown'));
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    const target = await raceAbort(resolveTarget(url, options), controller.signal);
    return await send(url, target, body, headers, controller.signal, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  } catch (error) {
    if (error instanceof OutboundError) throw error;
    if (controller.signal.aborted && controller.signal.reason instanceof OutboundError) throw controller.signal.reason;
    const code = (error as NodeJS.ErrnoException).code;
    throw new OutboundError('network', code ? `connection failed (${code})` : 'connection failed');
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function send(url: URL, target: ResolvedAddress, body: string, headers: Record<string, string>, signal: AbortSignal, maxBytes: number): Promise<OutboundResponse> {
  // Connect to the checked address whatever the socket layer asks (with `all` since Node 20's
  // autoSelectFamily); the Host header and TLS name stay the URL's host.
  const lookup: LookupFunction = (_hostname, opts, callback) => {
    if ((opts as { all?: boolean }).all) (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  const client = url.protocol === 'https:' ? https : http;
  const payload = Buffer.from(body, 'utf8');
  return new Promise<OutboundResponse>((resolve, reject) => {
    const request = client.request(
      {
        protocol: url.protocol,
        host: bareHost(url),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        lookup,
        agent: false,
        signal,
        ...(url.username !== '' ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
        headers: {
          'user-agent': 'Meterwatch-Alerts/0.1',
          'content-type': 'application/json',
          ...headers,
          host: url.host,
          'content-length': String(payload.length),
          connection: 'close',
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        const finish = () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
        response.on('data', (chunk: Buffer) => {
          if (kept >= maxBytes) return;
          const piece = chunk.subarray(0, maxBytes - kept);
          chunks.push(piece);
          kept += piece.length;
          // The status is all that decides the outcome: stop reading an oversized body.
          if (kept >= maxBytes) {
            finish();
            response.destroy();
          }
        });
        response.on('end', finish);
        response.on('error', (error) => (kept >= maxBytes ? finish() : reject(error)));
        response.on('close', () => (response.complete || kept >= maxBytes ? finish() : reject(new OutboundError('network', 'the connection closed before the response ended'))));
      },
    );
    request.on('error', (error) => reject(signal.aborted && signal.reason instanceof OutboundError ? signal.reason : error));
    request.end(payload);
  });
}
