import { TypeCompiler } from '@sinclair/typebox/compiler';
import { ExactNumber } from './exact-json.js';
import { IngestEnvelope } from './ingest-schemas.js';
import { idempotencyHeaderMisuse, invalidIngestBody, tenantsDisagree, tooManyEvents } from './metering-errors.js';

const checkEnvelope = TypeCompiler.Compile(IngestEnvelope);

/**
 * The request-level rules of `POST /v1/events/ingest`, before any event is looked at: a malformed
 * body is refused whole (nothing stored), while a bad event only gets its own rejection later.
 */
export function eventsOf(body: unknown, maxEvents: number): unknown[] {
  if (!checkEnvelope.Check(body)) {
    const first = checkEnvelope.Errors(body).First();
    throw invalidIngestBody(`The body must be {"events":[…]} and nothing else${first ? ` (${first.path || '/'}: ${first.message})` : ''}`);
  }
  const events = body.events;
  if (events.length === 0 || events.length > maxEvents) throw tooManyEvents(maxEvents, events.length);
  return events;
}

/** The distinct tenant ids the events name (usually none or one). */
export function namedTenants(events: readonly unknown[]): string[] {
  const named = new Set<string>();
  for (const e of events) {
    if (typeof e !== 'object' || e === null || e instanceof ExactNumber) continue;
    const t = (e as { tenantId?: unknown }).tenantId;
    if (typeof t === 'string') named.add(t);
  }
  return [...named];
}

/** After each named tenant passed the access check: several different ones are still one too many. */
export function singleTenant(named: string[]): string | undefined {
  if (named.length > 1) throw tenantsDisagree();
  return named[0];
}

/** `Idempotency-Key` header: only for a one-event batch, and not contradicting the event's own key. */
export function withIdempotencyHeader(events: unknown[], header: string | undefined): unknown[] {
  if (header === undefined) return events;
  if (events.length !== 1) throw idempotencyHeaderMisuse('The Idempotency-Key header is accepted only for a batch of one event; put idempotencyKey on each event instead');
  const event = events[0];
  if (typeof event !== 'object' || event === null || Array.isArray(event) || event instanceof ExactNumber) return events;
  const own = (event as { idempotencyKey?: unknown }).idempotencyKey;
  if (own !== undefined && own !== header) throw idempotencyHeaderMisuse('The Idempotency-Key header and the event’s idempotencyKey differ');
  return [{ ...event, idempotencyKey: header }];
}
