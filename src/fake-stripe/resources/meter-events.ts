import { randomUUID } from 'node:crypto';
import type { Account, MeterEventRecord } from '../account.js';
import { invalidRequest, missingParam } from '../errors.js';
import { checkMeterValue } from '../meter-value.js';
import type { Router } from '../router.js';
import type { MeterEventObject } from '../wire-types.js';
import { activeMeterFor } from './meters.js';

export const DAY_MS = 86_400_000;
/** "Stripe enforces uniqueness within a rolling period of at least 24 hours." */
export const IDENTIFIER_WINDOW_MS = DAY_MS;
/** "Must be within the past 35 calendar days or up to 5 minutes in the future." */
export const MAX_PAST_SECONDS = 35 * 86_400;
export const MAX_FUTURE_SECONDS = 5 * 60;

export interface MeterEventInput {
  event_name: string;
  payload: Record<string, string>;
  identifier?: string;
  /** Seconds since the epoch. */
  timestamp?: number;
}

/** Why Stripe refuses an event; v1 answers 400 with it, v2 reports it asynchronously. */
export class MeterEventRejection extends Error {
  constructor(
    readonly code: string | undefined,
    message: string,
    readonly param: string,
  ) {
    super(message);
  }
}

export interface IngestOptions {
  source: 'v1' | 'v2';
  acceptDecimalValues: boolean;
}

/**
 * The rules both APIs apply, in one place: an active meter for the event name, the customer mapping
 * key and (for sum/last) a valid value in the payload, the 35-day / 5-minute timestamp window, and the
 * identifier unique over 24 hours. Returns the accepted record, or null when the event passed the
 * synchronous checks but Stripe would drop it later (an unknown customer): it is then only in
 * `meterEventErrors`, as Stripe only reports that through `v1.billing.meter.error_report_triggered`.
 */
export function ingestMeterEvent(account: Account, input: MeterEventInput, options: IngestOptions): { record: MeterEventRecord | null; object: MeterEventObject } {
  const nowMs = account.now();
  const now = Math.floor(nowMs / 1000);
  const identifier = input.identifier ?? randomUUID();
  if (identifier.length > 100) throw new MeterEventRejection(undefined, 'identifier must be at most 100 characters.', 'identifier');

  const meter = activeMeterFor(account, input.event_name);
  if (meter === undefined) {
    const inactive = [...account.meters.values()].some((m) => m.event_name === input.event_name);
    throw new MeterEventRejection(inactive ? 'archived_meter' : 'no_meter', `No active meter found for event_name ${input.event_name}.`, 'event_name');
  }
  const customerKey = meter.customer_mapping.event_payload_key;
  const customer = input.payload[customerKey];
  if (customer === undefined || customer === '')
    throw new MeterEventRejection('meter_event_no_customer_defined', `Customer mapping key ${customerKey} not found in payload.`, `payload[${customerKey}]`);
  const valueKey = meter.value_settings.event_payload_key;
  const value = input.payload[valueKey];
  if (meter.default_aggregation.formula !== 'count' || value !== undefined) {
    if (value === undefined || value === '')
      throw new MeterEventRejection('meter_event_invalid_value', `Value key ${valueKey} not found in payload.`, `payload[${valueKey}]`);
    const check = checkMeterValue(value, options.acceptDecimalValues);
    if (!check.ok) throw new MeterEventRejection(check.code, check.message, `payload[${valueKey}]`);
  }
  const timestamp = input.timestamp ?? now;
  if (timestamp < now - MAX_PAST_SECONDS)
    throw new MeterEventRejection(
      'timestamp_too_far_in_past',
      `The event timestamp cannot be more than 35 days in past. Expected a timestamp greater than or equal to ${now - MAX_PAST_SECONDS}.`,
      'timestamp',
    );
  if (timestamp > now + MAX_FUTURE_SECONDS)
    throw new MeterEventRejection(
      'timestamp_in_future',
      `The event timestamp cannot be more than 5 minutes in the future. Expected a timestamp less than or equal to ${now + MAX_FUTURE_SECONDS}.`,
      'timestamp',
    );
  const previous = account.identifiers.get(identifier);
  if (previous !== undefined && nowMs - previous.acceptedAtMs < IDENTIFIER_WINDOW_MS)
    throw new MeterEventRejection(undefined, `An event already exists with identifier ${identifier}.`, 'identifier');

  const object: MeterEventObject = {
    object: 'billing.meter_event',
    created: now,
    event_name: input.event_name,
    identifier,
    livemode: account.livemode,
    payload: { ...input.payload },
    timestamp,
  };
  if (!account.customers.has(customer)) {
    account.meterEventErrors.push({
      identifier,
      event_name: input.event_name,
      code: 'meter_event_customer_not_found',
      message: `Customer ${customer} not found.`,
      source: options.source,
      atMs: nowMs,
    });
    return { record: null, object };
  }
  const record: MeterEventRecord = {
    identifier,
    event_name: input.event_name,
    meter: meter.id,
    customer,
    value: value ?? null,
    payload: { ...input.payload },
    timestamp,
    created: now,
    acceptedAtMs: nowMs,
    cancelled: false,
    source: options.source,
  };
  account.meterEvents.push(record);
  account.identifiers.set(identifier, record);
  return { record, object };
}

export function registerMeterEventRoutes(router: Router, options: { acceptDecimalValues: boolean }): void {
  router.add('POST', '/v1/billing/meter_events', (ctx) => {
    const p = ctx.params.allowOnly(['event_name', 'payload', 'identifier', 'timestamp', 'expand']);
    const eventName = p.requiredString('event_name');
    const payload = p.stringMap('payload');
    if (payload === undefined || Object.keys(payload).length === 0) throw missingParam('payload');
    try {
      const { object } = ingestMeterEvent(
        ctx.account,
        { event_name: eventName, payload, identifier: p.string('identifier'), timestamp: p.integer('timestamp') },
        { source: 'v1', acceptDecimalValues: options.acceptDecimalValues },
      );
      return { body: object };
    } catch (error) {
      if (error instanceof MeterEventRejection) throw invalidRequest(error.message, { ...(error.code ? { code: error.code } : {}), param: error.param });
      throw error;
    }
  });
}
