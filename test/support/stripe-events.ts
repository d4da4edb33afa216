import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Stripe from 'stripe';

const here = path.dirname(fileURLToPath(import.meta.url));
// MW_BENCH_FIXTURES (as the benchmarks take it) for a checkout that is not next to ../shared, e.g. a git worktree.
const FIXTURES = process.env.MW_BENCH_FIXTURES ? path.resolve(process.env.MW_BENCH_FIXTURES) : path.resolve(here, '../../../shared/fixtures/stripe/fixtures3.json');

let cache: Record<string, Record<string, unknown>> | undefined;

/** One of Stripe's published example objects (`../shared/fixtures/stripe/fixtures3.json`), deep-copied. */
export function fixture(name: string): Record<string, unknown> {
  cache ??= (JSON.parse(fs.readFileSync(FIXTURES, 'utf8')) as { resources: Record<string, Record<string, unknown>> }).resources;
  const obj = cache[name];
  if (!obj) throw new Error(`no fixture named ${name}`);
  return structuredClone(obj);
}

export const API_VERSION = '2025-08-27.basil';

let counter = 0;

/** Wraps an object in a Stripe event envelope, the way Stripe delivers it. */
export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  options: { id?: string; created: number; livemode?: boolean; account?: string; previousAttributes?: Record<string, unknown> },
): Record<string, unknown> {
  counter += 1;
  const event: Record<string, unknown> = {
    id: options.id ?? `evt_test_${options.created}_${counter}_${Math.random().toString(36).slice(2, 10)}`,
    object: 'event',
    api_version: API_VERSION,
    created: options.created,
    data: { object, ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}) },
    livemode: options.livemode ?? false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  };
  if (options.account) event.account = options.account;
  return event;
}

export function chargeSucceeded(created: number, patch: Record<string, unknown> = {}, id?: string) {
  // Stripe's fixture is an uncaptured authorisation; a normal successful charge is captured.
  const charge: Record<string, unknown> = { ...fixture('charge'), id: `ch_${created}_${counter}`, amount: 2000, currency: 'usd', customer: 'cus_fixture', status: 'succeeded', captured: true, paid: true, created, ...patch };
  if (charge.captured === true && patch.amount_captured === undefined) charge.amount_captured = charge.amount;
  return stripeEvent('charge.succeeded', charge, { created, ...(id ? { id } : {}) });
}

/** The Stripe-Signature header Stripe would send for this payload, signed with `secret` at `timestamp`. */
export function signPayload(payload: string, secret: string, timestampSeconds: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: timestampSeconds });
}
