import { invalidBackfill } from './backfill-errors.js';

/** A backfill's window and filter, as stored on the job. Times are Stripe's unit, epoch seconds. */
export interface BackfillParams {
  /** Inclusive: `created[gte]`. */
  since: number;
  /** Exclusive: `created[lt]`; null lists up to now. */
  until: number | null;
  /** Stripe's `types[]` filter (at most 20 names); null for every type. */
  types: string[] | null;
}

export interface BackfillInput {
  since: string | number;
  until?: string | number | undefined;
  types?: string[] | string | undefined;
}

const DURATION = /^(\d{1,4})([dhm])$/;
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/;
const EVENT_TYPE = /^[a-z0-9_.]{1,100}$/;
const UNIT_SECONDS = { d: 86_400, h: 3_600, m: 60 } as const;
/** Stripe's `types[]` accepts up to 20 names. */
const MAX_TYPES = 20;

/**
 * `since`/`until`: a duration back from now (`30d`, `12h`, `90m`), an ISO 8601 date or time with an
 * offset, or unix seconds (Stripe's unit). The Events API keeps 30 days of history; asking for more
 * is allowed and simply finds nothing older.
 */
export function parseBackfillParams(input: BackfillInput, nowMs: number): BackfillParams {
  const problems: string[] = [];
  const nowSeconds = Math.floor(nowMs / 1000);
  const since = parseTime('since', input.since, nowSeconds, problems);
  const until = input.until === undefined ? null : parseTime('until', input.until, nowSeconds, problems);
  if (since !== undefined && since > nowSeconds) problems.push('since is in the future');
  if (since !== undefined && until !== undefined && until !== null && until <= since) problems.push('until must be after since');
  const types = parseTypes(input.types, problems);
  if (problems.length > 0 || since === undefined || until === undefined) throw invalidBackfill(problems);
  return { since, until, types };
}

function parseTime(name: string, raw: string | number, nowSeconds: number, problems: string[]): number | undefined {
  if (typeof raw === 'number') {
    if (Number.isSafeInteger(raw) && raw >= 0 && raw < 1e11) return raw;
    problems.push(`${name} as a number must be unix seconds`);
    return undefined;
  }
  const text = raw.trim();
  const duration = DURATION.exec(text);
  if (duration) return nowSeconds - Number(duration[1]) * UNIT_SECONDS[duration[2] as keyof typeof UNIT_SECONDS];
  if (/^\d{1,11}$/.test(text)) return Number(text);
  if (ISO.test(text)) {
    const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
    if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
  }
  problems.push(`${name} must be a duration back from now (30d, 12h, 90m), an ISO 8601 date or time with an offset, or unix seconds`);
  return undefined;
}

function parseTypes(raw: string[] | string | undefined, problems: string[]): string[] | null {
  if (raw === undefined) return null;
  const list = (typeof raw === 'string' ? raw.split(',') : raw).map((t) => t.trim()).filter((t) => t.length > 0);
  if (list.length === 0) return null;
  if (list.length > MAX_TYPES) problems.push(`at most ${MAX_TYPES} event types (Stripe's limit for types[])`);
  const bad = list.filter((t) => !EVENT_TYPE.test(t));
  if (bad.length > 0) problems.push(`not Stripe event types: ${bad.slice(0, 5).map((t) => JSON.stringify(t)).join(', ')}`);
  return [...new Set(list)];
}
