import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Account } from './account.js';
import { AccountRegistry } from './accounts.js';
import { FakeAccountStateImpl, type FakeAccountState } from './account-state.js';
import { authenticate } from './auth.js';
import { StripeApiError, idempotencyMismatch, unrecognizedUrl, v2Error, type StripeErrorBody } from './errors.js';
import { FaultDecider, type FaultKind, type FaultPlan } from './faults.js';
import { FormParseError, parseForm } from './form-parser.js';
import { newId } from './ids.js';
import { checkIdempotency, saveIdempotentResult } from './idempotency.js';
import { paramsOf } from './params.js';
import { buildRouter } from './routes.js';
import { SessionRegistry } from './resources/meter-event-stream.js';

export interface FakeStripeOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Epoch milliseconds; tests pass a ManualClock's `now`. Defaults to Date.now. */
  now?: () => number;
  faults?: FaultPlan;
  /** Accept decimal meter event values (a Stripe private preview); whole numbers only by default. */
  acceptDecimalValues?: boolean;
  /** Called once per request after it was answered, dropped or put on hold (demos print these). */
  onRequest?: (entry: RequestLogEntry) => void;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  /** The key the request authenticated with (for the v2 stream: the key that opened the session). */
  apiKey: string;
  /** 0 when no response was sent (a dropped or held connection). */
  status: number;
  fault?: FaultKind;
}

export interface FakeStripe {
  url: string;
  host: string;
  port: number;
  close(): Promise<void>;
  setFaults(plan: FaultPlan | null): void;
  account(apiKey: string): FakeAccountState;
  requestLog: ReadonlyArray<RequestLogEntry>;
}

const DEFAULT_VERSION = '2026-10-28.endive';

interface Outcome {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export async function startFakeStripe(options: FakeStripeOptions = {}): Promise<FakeStripe> {
  const now = options.now ?? (() => Date.now());
  const accounts = new AccountRegistry(now);
  const sessions = new SessionRegistry();
  const router = buildRouter(sessions, { acceptDecimalValues: options.acceptDecimalValues ?? false });
  const log: RequestLogEntry[] = [];
  const holds = new Set<NodeJS.Timeout>();
  let decider = options.faults ? new FaultDecider(options.faults) : null;

  const hold = (socket: Socket, ms: number) => {
    const timer = setTimeout(() => {
      holds.delete(timer);
      socket.destroy();
    }, ms);
    holds.add(timer);
  };

  const execute = (method: string, url: URL, raw: string, headers: http.IncomingHttpHeaders, account: Account | null, authError: StripeApiError | null): Outcome => {
    const requestId = newId('req', 14);
    const base: Record<string, string> = {
      'Request-Id': requestId,
      'Stripe-Version': String(headers['stripe-version'] ?? DEFAULT_VERSION),
    };
    const idempotencyKey = typeof headers['idempotency-key'] === 'string' ? headers['idempotency-key'] : null;
    if (idempotencyKey) base['Idempotency-Key'] = idempotencyKey;
    const fail = (e: StripeApiError): Outcome => ({ status: e.status, body: { error: e.body }, headers: { ...base, ...e.headers } });
    if (authError) return fail(authError);
    const path = url.pathname;
    const match = router.match(method, path);
    if (match === null || account === null) return fail(unrecognizedUrl(method, path));

    const isV2 = path.startsWith('/v2/');
    let body: Record<string, unknown>;
    try {
      if (method === 'POST') body = isV2 ? parseJsonBody(raw) : parseForm(raw);
      else body = parseForm(url.search.slice(1));
    } catch (e) {
      const message = e instanceof FormParseError || e instanceof SyntaxError ? e.message : 'Invalid request body.';
      return fail(isV2 ? v2Error(400, 'invalid_request_error', message) : new StripeApiError(400, { type: 'invalid_request_error', message }));
    }

    const fingerprint = `${method} ${path} ${raw}`;
    if (method === 'POST' && idempotencyKey) {
      const seen = checkIdempotency(account, idempotencyKey, fingerprint, now());
      if (seen.kind === 'mismatch') return fail(idempotencyMismatch(idempotencyKey));
      if (seen.kind === 'replay') return { status: seen.status, body: seen.body, headers: { ...base, 'Idempotent-Replayed': 'true' } };
    }
    try {
      const result = match.handler({ account, params: paramsOf(body), pathParams: match.pathParams, method, path, requestId, idempotencyKey });
      const status = result.status ?? 200;
      const snapshot = JSON.parse(JSON.stringify(result.body)) as unknown;
      if (method === 'POST' && idempotencyKey) saveIdempotentResult(account, idempotencyKey, fingerprint, status, snapshot, now());
      return { status, body: snapshot, headers: base };
    } catch (e) {
      if (e instanceof StripeApiError) return fail(e);
      const body: StripeErrorBody = { type: 'api_error', message: `fake-stripe internal error: ${(e as Error).message}` };
      return { status: 500, body: { error: body }, headers: base };
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const url = new URL(req.url ?? '/', 'http://fake-stripe.local');
      const raw = Buffer.concat(chunks).toString('utf8');
      const fault = decider?.decide(url.pathname) ?? null;
      const auth = authenticate(url.pathname, req.headers, accounts, sessions, now());
      const entry: RequestLogEntry = { method, path: url.pathname, apiKey: auth.apiKey, status: 0, ...(fault ? { fault } : {}) };
      log.push(entry);
      const done = () => options.onRequest?.(entry);
      const send = (o: Outcome) => {
        entry.status = o.status;
        const text = JSON.stringify(o.body);
        res.writeHead(o.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...o.headers });
        res.end(text);
        done();
      };
      switch (fault) {
        case 'drop':
          req.socket.destroy();
          done();
          return;
        case 'timeout':
          hold(req.socket, decider?.holdMs ?? 30_000);
          done();
          return;
        case '500':
        case '503':
          send({ status: Number(fault), body: { error: { type: 'api_error', message: 'An unknown error occurred (fake-stripe injected fault).' } }, headers: {} });
          return;
        case '429':
          send({
            status: 429,
            body: { error: { type: 'invalid_request_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.' } },
            headers: { 'Retry-After': String(decider?.retryAfterSeconds ?? 1) },
          });
          return;
        default:
          break;
      }
      const outcome = execute(method, url, raw, req.headers, auth.account, auth.error);
      if (fault === 'drop_after_commit') {
        req.socket.destroy();
        done();
        return;
      }
      if (fault === 'timeout_after_commit') {
        hold(req.socket, decider?.holdMs ?? 30_000);
        done();
        return;
      }
      send(outcome);
    });
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    requestLog: log,
    setFaults(plan) {
      decider = plan ? new FaultDecider(plan) : null;
    },
    account(apiKey) {
      return new FakeAccountStateImpl(accounts.get(apiKey), { acceptDecimalValues: options.acceptDecimalValues ?? false });
    },
    close() {
      for (const timer of holds) clearTimeout(timer);
      holds.clear();
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function parseJsonBody(raw: string): Record<string, unknown> {
  if (raw.trim() === '') return {};
  const value = JSON.parse(raw) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SyntaxError('The request body must be a JSON object.');
  return value as Record<string, unknown>;
}
