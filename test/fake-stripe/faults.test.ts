import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { FaultPlan } from '../../src/fake-stripe/index.js';
import { TEST_KEY, customerAndMeter, startHarness, stripeError } from './harness.js';

async function outcomes(plan: FaultPlan, n: number): Promise<{ seen: string[]; logged: string[] }> {
  const h = await startHarness({ faults: plan });
  const stripe = h.client();
  const seen: string[] = [];
  for (let i = 0; i < n; i += 1) {
    try {
      await stripe.customers.create({ email: `c${i}@example.test` });
      seen.push('200');
    } catch (error) {
      seen.push(String((error as Stripe.errors.StripeError).statusCode));
    }
  }
  return { seen, logged: h.fake.requestLog.map((r) => `${r.status}${r.fault ? `:${r.fault}` : ''}`) };
}

describe('fake Stripe: fault injection', () => {
  it('replays the same sequence of statuses for the same seed', async () => {
    const plan: FaultPlan = { seed: 42, rate: 0.4, kinds: ['500', '503', '429'] };
    const first = await outcomes(plan, 30);
    const second = await outcomes(plan, 30);
    expect(second).toEqual(first);
    expect(new Set(first.seen)).toEqual(new Set(['200', '500', '503', '429']));
    const other = await outcomes({ ...plan, seed: 43 }, 30);
    expect(other.seen).not.toEqual(first.seen);
  });

  it('answers 429 with Retry-After and applies nothing', async () => {
    const h = await startHarness({ faults: { seed: 1, rate: 1, kinds: ['429'], retryAfterSeconds: 7 } });
    const error = await stripeError(h.client().customers.create({}));
    expect(error.type).toBe('StripeRateLimitError');
    expect(error.statusCode).toBe(429);
    expect(error.headers?.['retry-after']).toBe('7');
    expect(h.fake.account(TEST_KEY).customers()).toEqual([]);
  });

  it('drop_after_commit applies the request, then the client sees a failure; a resend hits the identifier rule', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const { customer } = await customerAndMeter(stripe);
    h.fake.setFaults({ seed: 7, rate: 1, kinds: ['drop_after_commit'], paths: /^\/v1\/billing\/meter_events$/ });
    const send = () => stripe.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: customer.id, value: '5' }, identifier: 'once' });
    const error = await stripeError(send());
    expect(error.type).toBe('StripeConnectionError');
    // The SDK retried the closed connection once with the same Idempotency-Key: replayed, not applied twice.
    const faulted = h.fake.requestLog.filter((r) => r.fault);
    expect(faulted.map((r) => [r.path, r.status, r.fault])).toEqual([
      ['/v1/billing/meter_events', 0, 'drop_after_commit'],
      ['/v1/billing/meter_events', 0, 'drop_after_commit'],
    ]);
    expect(h.fake.account(TEST_KEY).meterEvents().map((e) => e.identifier)).toEqual(['once']);
    h.fake.setFaults(null);
    expect(await stripeError(send())).toMatchObject({ statusCode: 400, message: 'An event already exists with identifier once.' });
  });

  it('drop and timeout apply nothing; timeout_after_commit applies the request', async () => {
    const h = await startHarness();
    const stripe = h.client(TEST_KEY, { timeoutMs: 150 });
    h.fake.setFaults({ seed: 3, rate: 1, kinds: ['drop'] });
    expect((await stripeError(stripe.customers.create({ email: 'dropped@example.test' }))).type).toBe('StripeConnectionError');
    h.fake.setFaults({ seed: 3, rate: 1, kinds: ['timeout'], holdMs: 10_000 });
    const timedOut = await stripeError(stripe.customers.create({ email: 'held@example.test' }));
    expect(timedOut.type).toBe('StripeConnectionError');
    expect(timedOut.message).toContain('timeout');
    expect(h.fake.account(TEST_KEY).customers()).toEqual([]);
    h.fake.setFaults({ seed: 3, rate: 1, kinds: ['timeout_after_commit'], holdMs: 10_000 });
    expect((await stripeError(stripe.customers.create({ email: 'committed@example.test' }))).type).toBe('StripeConnectionError');
    expect(h.fake.account(TEST_KEY).customers().map((c) => c.email)).toEqual(['committed@example.test']);
  });

  it('faults only the paths a plan names', async () => {
    const h = await startHarness({ faults: { seed: 9, rate: 1, kinds: ['500'], paths: /^\/v1\/billing\// } });
    const stripe = h.client();
    await expect(stripe.customers.create({})).resolves.toBeTruthy();
    expect((await stripeError(stripe.billing.meters.list())).statusCode).toBe(500);
  });

  it('replays an idempotent request and refuses a key reused with other parameters', async () => {
    const h = await startHarness();
    const stripe = h.client();
    const a = await stripe.customers.create({ email: 'i@example.test' }, { idempotencyKey: 'key-1' });
    const b = await stripe.customers.create({ email: 'i@example.test' }, { idempotencyKey: 'key-1' });
    expect(b.id).toBe(a.id);
    expect(b.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(h.fake.account(TEST_KEY).customers()).toHaveLength(1);
    const mismatch = await stripeError(stripe.customers.create({ email: 'other@example.test' }, { idempotencyKey: 'key-1' }));
    expect(mismatch.type).toBe('StripeIdempotencyError');
    h.clock.advance(24 * 3_600_000);
    const c = await stripe.customers.create({ email: 'other@example.test' }, { idempotencyKey: 'key-1' });
    expect(c.id).not.toBe(a.id);
  });
});
