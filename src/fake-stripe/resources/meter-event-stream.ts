import type { Account } from '../account.js';
import { v2Error } from '../errors.js';
import { newId } from '../ids.js';
import type { Router } from '../router.js';
import { MeterEventRejection, ingestMeterEvent, type MeterEventInput } from './meter-events.js';

/** "Authentication tokens are only valid for 15 minutes." */
export const SESSION_TTL_MS = 15 * 60_000;
export const MAX_STREAM_EVENTS = 100;

export interface MeterEventSession {
  id: string;
  token: string;
  account: Account;
  createdMs: number;
  expiresAtMs: number;
}

/** Session tokens of every account, so the stream endpoint can find whose events it receives. */
export class SessionRegistry {
  private readonly byToken = new Map<string, MeterEventSession>();

  create(account: Account): MeterEventSession {
    const createdMs = account.now();
    const session: MeterEventSession = {
      id: newId('mes', 24),
      token: newId(account.livemode ? 'mes_tok_live' : 'mes_tok_test', 40),
      account,
      createdMs,
      expiresAtMs: createdMs + SESSION_TTL_MS,
    };
    this.byToken.set(session.token, session);
    return session;
  }

  find(token: string): MeterEventSession | undefined {
    return this.byToken.get(token);
  }
}

export const sessionExpired = () =>
  v2Error(401, 'temporary_session_expired', 'The meter event session has expired. Create a new session to continue sending events.', 'billing_meter_event_session_expired');

export function registerMeterEventSessionRoutes(router: Router, sessions: SessionRegistry): void {
  router.add('POST', '/v2/billing/meter_event_session', (ctx) => {
    ctx.params.allowOnly([]);
    const s = sessions.create(ctx.account);
    return {
      body: {
        id: s.id,
        object: 'v2.billing.meter_event_session',
        authentication_token: s.token,
        created: new Date(s.createdMs).toISOString(),
        expires_at: new Date(s.expiresAtMs).toISOString(),
        livemode: ctx.account.livemode,
      },
    };
  });
}

/**
 * `POST /v2/billing/meter_event_stream`. Stripe validates stream events asynchronously: the request
 * answers `{}` once its shape is right, and an event that breaks a rule (unknown meter, bad value,
 * old timestamp, duplicate identifier…) is dropped and only reported later through
 * `v1.billing.meter.error_report_triggered`. The fake applies the valid events synchronously and keeps
 * the rejected ones in `meterEventErrors()`.
 */
export function registerMeterEventStreamRoutes(router: Router, options: { acceptDecimalValues: boolean }): void {
  router.add('POST', '/v2/billing/meter_event_stream', (ctx) => {
    const p = ctx.params.allowOnly(['events']);
    const raw = p.raw.events;
    if (!Array.isArray(raw) || raw.length === 0) throw v2Error(400, 'invalid_request_error', 'events: must contain at least 1 event.', 'invalid_fields');
    if (raw.length > MAX_STREAM_EVENTS)
      throw v2Error(400, 'invalid_request_error', `events: must contain at most ${MAX_STREAM_EVENTS} events, got ${raw.length}.`, 'invalid_fields');
    const inputs = raw.map((e, i) => parseStreamEvent(e, i));
    for (const input of inputs) {
      try {
        ingestMeterEvent(ctx.account, input, { source: 'v2', acceptDecimalValues: options.acceptDecimalValues });
      } catch (error) {
        if (!(error instanceof MeterEventRejection)) throw error;
        ctx.account.meterEventErrors.push({
          identifier: input.identifier ?? '',
          event_name: input.event_name,
          code: error.code ?? 'duplicate_identifier',
          message: error.message,
          source: 'v2',
          atMs: ctx.account.now(),
        });
      }
    }
    return { body: {} };
  });
}

function parseStreamEvent(e: unknown, i: number): MeterEventInput {
  const bad = (message: string) => v2Error(400, 'invalid_request_error', `events[${i}]: ${message}`, 'invalid_fields');
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw bad('must be an object.');
  const ev = e as Record<string, unknown>;
  for (const key of Object.keys(ev)) if (!['event_name', 'payload', 'identifier', 'timestamp'].includes(key)) throw bad(`unknown field ${key}.`);
  if (typeof ev.event_name !== 'string' || ev.event_name === '') throw bad('event_name is required.');
  if (typeof ev.payload !== 'object' || ev.payload === null || Array.isArray(ev.payload)) throw bad('payload is required.');
  const payload: Record<string, string> = {};
  for (const [k, v] of Object.entries(ev.payload as Record<string, unknown>)) {
    if (typeof v !== 'string') throw bad(`payload.${k} must be a string.`);
    payload[k] = v;
  }
  if (ev.identifier !== undefined && typeof ev.identifier !== 'string') throw bad('identifier must be a string.');
  let timestamp: number | undefined;
  if (ev.timestamp !== undefined) {
    const ms = typeof ev.timestamp === 'string' ? Date.parse(ev.timestamp) : NaN;
    if (!Number.isFinite(ms)) throw bad('timestamp must be an RFC 3339 date-time.');
    timestamp = Math.floor(ms / 1000);
  }
  return {
    event_name: ev.event_name,
    payload,
    ...(ev.identifier !== undefined ? { identifier: ev.identifier as string } : {}),
    ...(timestamp !== undefined ? { timestamp } : {}),
  };
}
