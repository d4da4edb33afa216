import type Stripe from 'stripe';
import { afterEach } from 'vitest';
import { ManualClock } from '../../src/shared/clock.js';
import { createStripeClientFactory } from '../../src/stripe/stripe-client.js';
import { startFakeStripe, type FakeStripe, type FakeStripeOptions } from '../../src/fake-stripe/index.js';

/** 2026-11-20 12:00:00 UTC, a whole hour (summaries need aligned times). */
export const T0 = Date.UTC(2026, 10, 20, 12, 0, 0);
export const T0S = T0 / 1000;
export const TEST_KEY = 'sk_test_fake0000000000000000000001';
export const LIVE_KEY = 'sk_live_fake0000000000000000000001';
export const HOUR = 3600;
export const DAY = 86_400;

export interface Harness {
  fake: FakeStripe;
  clock: ManualClock;
  /** An official SDK client pointed at the fake (retries off unless asked for). */
  client(apiKey?: string, options?: { timeoutMs?: number; maxNetworkRetries?: number }): Stripe;
}

const open: FakeStripe[] = [];
afterEach(async () => {
  while (open.length > 0) await open.pop()!.close();
});

export async function startHarness(options: Omit<FakeStripeOptions, 'now'> = {}): Promise<Harness> {
  const clock = new ManualClock(T0);
  const fake = await startFakeStripe({ ...options, now: () => clock.now() });
  open.push(fake);
  const factories = new Map<string, ReturnType<typeof createStripeClientFactory>>();
  return {
    fake,
    clock,
    client(apiKey = TEST_KEY, o = {}) {
      const timeoutMs = o.timeoutMs ?? 5_000;
      const maxNetworkRetries = o.maxNetworkRetries ?? 0;
      const k = `${timeoutMs}/${maxNetworkRetries}`;
      let factory = factories.get(k);
      if (factory === undefined) {
        factory = createStripeClientFactory({ apiBase: { protocol: 'http', host: '127.0.0.1', port: fake.port }, timeoutMs, maxNetworkRetries });
        factories.set(k, factory);
      }
      return factory(apiKey);
    },
  };
}

/** A customer and an active meter (sum by default) through the SDK. */
export async function customerAndMeter(stripe: Stripe, formula: 'sum' | 'count' | 'last' = 'sum', eventName = 'api_calls') {
  const customer = await stripe.customers.create({ email: 'a@example.test' });
  const meter = await stripe.billing.meters.create({ display_name: eventName, event_name: eventName, default_aggregation: { formula } });
  return { customer, meter };
}

/** The Stripe error a promise rejects with. */
export async function stripeError(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (error) {
    return error as Stripe.errors.StripeError;
  }
  throw new Error('expected the call to fail');
}
