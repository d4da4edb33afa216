import type Stripe from 'stripe';
import type { Clock } from '../shared/clock.js';
import type { StripeClientFactory } from '../stripe/stripe-client.js';
import type { MeterInfo } from './meter-compatibility.js';

/** One meter event as Meterwatch sends it; `value` is in whole units (Stripe takes whole numbers). */
export interface OutgoingEvent {
  eventName: string;
  identifier: string;
  customerKey: string;
  stripeCustomerId: string;
  valueKey: string;
  value: bigint;
  /** Epoch seconds. */
  ts: number;
}

/**
 * rate_limited: 429, nothing done, retry after `retryAfterMs` · retryable: 5xx, timeout, dropped
 * connection (Stripe may or may not hold it: `uncertain`) · rejected: Stripe refused it for good ·
 * cancel_refused: the event is outside Stripe's cancel window (or unknown to Stripe).
 */
export type FailureKind = 'rate_limited' | 'retryable' | 'rejected' | 'cancel_refused';

export interface PushFailure {
  kind: FailureKind;
  message: string;
  uncertain: boolean;
  retryAfterMs?: number;
  status?: number;
}

export type CallOutcome = { ok: true; duplicate: boolean; calls: number } | { ok: false; failure: PushFailure; calls: number };

export type CallKind = 'meter_event' | 'meter_event_stream' | 'meter_event_session' | 'meter_event_adjustment' | 'meter_lookup';

/**
 * The Stripe calls of the sync, through the one client factory (pinned API version, STRIPE_API_BASE).
 * Errors become `PushFailure`s here so the engine never inspects SDK error classes.
 */
export class StripeMeterGateway {
  private readonly sessions = new Map<string, { token: string; expiresAt: number }>();

  constructor(
    private readonly clients: StripeClientFactory,
    private readonly clock: Clock,
    private readonly onCall: (kind: CallKind, outcome: string) => void = () => {},
  ) {}

  /** The meter by id, or the one whose event name matches; undefined when Stripe has none. Throws PushFailure-shaped errors as `MeterLookupError`. */
  async findMeter(apiKey: string, query: { meterId?: string; eventName: string }): Promise<MeterInfo | undefined> {
    const client = this.clients(apiKey);
    try {
      if (query.meterId !== undefined) {
        const meter = await this.call('meter_lookup', () => client.billing.meters.retrieve(query.meterId!));
        return toMeterInfo(meter);
      }
      let startingAfter: string | undefined;
      let inactive: MeterInfo | undefined;
      for (let page = 0; page < 50; page++) {
        const list = await this.call('meter_lookup', () => client.billing.meters.list({ limit: 100, ...(startingAfter ? { starting_after: startingAfter } : {}) }));
        for (const meter of list.data) {
          if (meter.event_name !== query.eventName) continue;
          if (meter.status === 'active') return toMeterInfo(meter);
          inactive ??= toMeterInfo(meter);
        }
        if (!list.has_more || list.data.length === 0) break;
        startingAfter = list.data[list.data.length - 1]!.id;
      }
      return inactive;
    } catch (error) {
      const failure = classify(error);
      if (failure.status === 404) return undefined;
      throw new MeterLookupError(failure);
    }
  }

  /** v1: one event per request, validated synchronously. */
  async sendEvent(apiKey: string, event: OutgoingEvent): Promise<CallOutcome> {
    const client = this.clients(apiKey);
    try {
      await this.call('meter_event', () =>
        client.billing.meterEvents.create({
          event_name: event.eventName,
          identifier: event.identifier,
          timestamp: event.ts,
          payload: payloadOf(event),
        }),
      );
      return { ok: true, duplicate: false, calls: 1 };
    } catch (error) {
      if (isDuplicateIdentifier(error)) return { ok: true, duplicate: true, calls: 1 };
      return { ok: false, failure: classify(error), calls: 1 };
    }
  }

  /** v2: up to 100 events in one request on a meter event session (token valid 15 minutes). */
  async sendStream(apiKey: string, events: OutgoingEvent[]): Promise<CallOutcome> {
    let calls = 0;
    try {
      let session = this.sessions.get(apiKey);
      if (!session || session.expiresAt - 60_000 <= this.clock.now()) {
        calls += 1;
        const created = await this.call('meter_event_session', () => this.clients(apiKey).v2.billing.meterEventSession.create());
        session = { token: created.authentication_token, expiresAt: Date.parse(created.expires_at) || this.clock.now() + 14 * 60_000 };
        this.sessions.set(apiKey, session);
      }
      calls += 1;
      await this.call('meter_event_stream', () =>
        this.clients(apiKey).v2.billing.meterEventStream.create(
          {
            events: events.map((e) => ({ event_name: e.eventName, identifier: e.identifier, timestamp: new Date(e.ts * 1000).toISOString(), payload: payloadOf(e) })),
          },
          { apiKey: session!.token },
        ),
      );
      return { ok: true, duplicate: false, calls };
    } catch (error) {
      const failure = classify(error);
      // An expired or refused session token: the next attempt starts a new session.
      if (failure.status === 401 || (error as { type?: string }).type === 'TemporarySessionExpiredError') {
        this.sessions.delete(apiKey);
        return { ok: false, failure: { ...failure, kind: 'retryable', uncertain: false }, calls };
      }
      return { ok: false, failure, calls };
    }
  }

  /** Cancels an accepted event by identifier (Stripe allows it within 24 h of receiving the event). */
  async cancelEvent(apiKey: string, eventName: string, identifier: string): Promise<CallOutcome> {
    const client = this.clients(apiKey);
    try {
      await this.call('meter_event_adjustment', () => client.billing.meterEventAdjustments.create({ event_name: eventName, type: 'cancel', cancel: { identifier } }));
      return { ok: true, duplicate: false, calls: 1 };
    } catch (error) {
      const failure = classify(error);
      if (failure.kind === 'rejected' && /already.{0,20}cancel/i.test(failure.message)) return { ok: true, duplicate: true, calls: 1 };
      if (failure.kind === 'rejected' && (failure.status === 404 || /24 hours|too old|older than|no (meter )?event|not found|cannot be cancel/i.test(failure.message))) {
        return { ok: false, failure: { ...failure, kind: 'cancel_refused' }, calls: 1 };
      }
      return { ok: false, failure, calls: 1 };
    }
  }

  private async call<T>(kind: CallKind, fn: () => Promise<T>): Promise<T> {
    try {
      const result = await fn();
      this.onCall(kind, 'ok');
      return result;
    } catch (error) {
      this.onCall(kind, String((error as { statusCode?: number }).statusCode ?? 'network'));
      throw error;
    }
  }
}

export class MeterLookupError extends Error {
  constructor(readonly failure: PushFailure) {
    super(failure.message);
    this.name = 'MeterLookupError';
  }
}

function payloadOf(event: OutgoingEvent): Record<string, string> {
  return { [event.customerKey]: event.stripeCustomerId, [event.valueKey]: event.value.toString() };
}

function toMeterInfo(meter: Stripe.Billing.Meter): MeterInfo {
  return {
    id: meter.id,
    eventName: meter.event_name,
    formula: meter.default_aggregation?.formula ?? 'unknown',
    status: meter.status,
    customerKey: meter.customer_mapping?.event_payload_key ?? 'stripe_customer_id',
    valueKey: meter.value_settings?.event_payload_key ?? 'value',
    eventTimeWindow: meter.event_time_window ?? null,
  };
}

/** Stripe answers a reused identifier with a 400 "An event already exists with identifier …": it was accepted before. */
function isDuplicateIdentifier(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e.statusCode !== 400) return false;
  return e.code === 'duplicate_meter_event' || /already exists.{0,40}identifier|duplicate.{0,20}identifier/i.test(e.message ?? '');
}

function classify(error: unknown): PushFailure {
  const e = error as { statusCode?: number; message?: string; headers?: Record<string, string>; type?: string };
  const message = (e.message ?? String(error)).slice(0, 500);
  const status = e.statusCode;
  if (status === 429) {
    const seconds = Number(e.headers?.['retry-after']);
    return { kind: 'rate_limited', message, uncertain: false, status, ...(Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {}) };
  }
  // No status: a timeout or a dropped connection, after which Stripe may or may not hold the event.
  if (status === undefined || status >= 500) return { kind: 'retryable', message, uncertain: true, ...(status !== undefined ? { status } : {}) };
  if (status === 409) return { kind: 'retryable', message, uncertain: false, status };
  return { kind: 'rejected', message, uncertain: false, status };
}
