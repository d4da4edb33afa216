import type Stripe from 'stripe';
import { RetryableJobError } from '../jobs/retryable-job-error.js';

export interface EventsPageRequest {
  since: number;
  until: number | null;
  types: string[] | null;
  startingAfter: string | null;
  limit: number;
}

export interface EventsPage {
  events: Stripe.Event[];
  hasMore: boolean;
}

/**
 * One page of `GET /v1/events`, newest first. The SDK's own retries are off for this call: the job
 * retries instead, with a persisted, clock-driven backoff that survives restarts. Failures come out
 * classified: RetryableJobError for what may pass (429, 5xx, network), a plain Error with a clear
 * message for what will not (a refused key, a key without Events access, a rejected request).
 */
export async function fetchEventsPage(stripe: Stripe, request: EventsPageRequest, nowMs: number): Promise<EventsPage> {
  const params: Stripe.EventListParams = {
    limit: request.limit,
    created: request.until === null ? { gte: request.since } : { gte: request.since, lt: request.until },
    ...(request.types ? { types: request.types } : {}),
    ...(request.startingAfter ? { starting_after: request.startingAfter } : {}),
  };
  try {
    const page = await stripe.events.list(params, { maxNetworkRetries: 0 });
    return { events: page.data, hasMore: page.has_more };
  } catch (error) {
    throw classifyStripeError(error, nowMs);
  }
}

export function classifyStripeError(error: unknown, nowMs: number): Error {
  const e = error as { type?: string; statusCode?: number; message?: string; headers?: Record<string, string>; requestId?: string };
  if (typeof e?.type !== 'string' || !e.type.startsWith('Stripe')) return error instanceof Error ? error : new Error(String(error));
  const status = e.statusCode;
  const request = e.requestId ? ` (request ${e.requestId})` : '';
  const message = `${e.message ?? 'no message'}${request}`;
  if (e.type === 'StripeConnectionError') return new RetryableJobError(`Stripe could not be reached: ${message}`);
  if (e.type === 'StripeRateLimitError' || status === 429) {
    return new RetryableJobError(`Stripe rate limit (429): ${message}`, retryAfterMs(e.headers?.['retry-after'], nowMs));
  }
  if (status === undefined || status >= 500 || status === 409) return new RetryableJobError(`Stripe answered ${status ?? 'an unreadable response'}: ${message}`);
  if (status === 401) return new Error(`Stripe refused the tenant's API key (401): ${message}`);
  if (status === 403) return new Error(`The tenant's Stripe key may not list events (403): give the restricted key read access to Events. ${message}`);
  return new Error(`Stripe refused the request (${status}): ${message}`);
}

/** `Retry-After` in seconds or as an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
