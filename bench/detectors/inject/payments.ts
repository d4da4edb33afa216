/**
 * Injected payment anomalies: card testing (a failure-rate spike), one customer's failure cluster (a
 * broken retry loop), a double charge (double submit), and a charge in the wrong currency.
 */
import { attemptPayment } from '../generator/payments.js';
import { MINUTE_MS } from '../generator/types.js';
import type { Customer } from '../generator/world.js';
import { activeWhere, ordinary, type InjectContext } from './context.js';

/**
 * Card testing: `attempts` small charges over `minutes`, from throwaway guests (half without a
 * Stripe customer, the others new customers with at most two attempts each), ~85 % declined.
 */
export function failureRateSpike(ctx: InjectContext, start: number, attempts = 90, minutes = 45): void {
  const w = ctx.world;
  ctx.expect({
    detector: 'charge_failure_rate',
    label: `card testing: ${attempts} small charges in ${minutes} min, ~85% declined`,
    subjectType: 'tenant',
    startsAt: start,
    window: { from: start, to: start + minutes * MINUTE_MS + 60 * MINUTE_MS },
  });
  // Throwaway customers are created up front, each used for at most two attempts.
  let guest: Customer | null = null;
  for (let i = 0; i < attempts; i++) {
    const t = start + Math.floor(ctx.rng.uniform(0, minutes * MINUTE_MS));
    const withCustomer = i % 4 >= 2;
    if (i % 4 === 2) guest = w.newCustomer(start);
    const customer = withCustomer ? guest : null;
    w.schedule(t, () => {
      attemptPayment(w, t, {
        customer,
        amount: w.profile.currencies[0]!.code === 'jpy' ? ctx.rng.int(10, 50) * 10 : ctx.rng.int(100, 500),
        currency: w.profile.currencies[0]!.code,
        paymentIntent: w.ids.next('pi'),
        description: 'Donation',
        declineP: 0.85,
        retriesLeft: 0,
        retryP: 0,
        retryDeclineP: 0,
        paymentMethod: w.ids.next('pm'),
        noAftermath: true,
      });
    });
  }
}

/** One customer's integration retries a declined card `failures` times, about a minute apart. */
export function customerFailureCluster(ctx: InjectContext, start: number, failures = 7): void {
  const w = ctx.world;
  const inj = ctx.expect({
    detector: 'customer_failure_cluster',
    label: `one customer: ${failures} declined charges ~50 s apart (retry loop)`,
    subjectType: 'customer',
    startsAt: start,
    window: { from: start, to: start + 40 * MINUTE_MS },
    explains: ['charge_failure_rate'],
  });
  w.schedule(start, () => {
    const customer = w.rng.pick(w.customers.filter((c) => c.currency === w.profile.currencies[0]!.code));
    inj.subjectId = customer.id;
    const amount = w.profile.currencies[0]!.code === 'jpy' ? 12_800 : 8_900;
    for (let i = 0; i < failures; i++) {
      const t = start + i * ctx.rng.int(40, 58) * 1000;
      w.schedule(t, () =>
        attemptPayment(w, t, {
          customer,
          amount,
          currency: customer.currency,
          paymentIntent: w.ids.next('pi'),
          description: 'Order',
          declineP: 1,
          retriesLeft: 0,
          retryP: 0,
          retryDeclineP: 0,
          noAftermath: true,
        }),
      );
    }
  });
}

/** A double submit: the same customer pays the same amount twice, `gapSeconds` apart, two payment intents. */
export function duplicateCharge(ctx: InjectContext, start: number, amount: number, gapSeconds = 40): void {
  const w = ctx.world;
  const inj = ctx.expect({
    detector: 'duplicate_charge',
    label: `double submit: same amount charged twice ${gapSeconds} s apart`,
    subjectType: 'customer',
    startsAt: start,
    window: { from: start, to: start + 30 * MINUTE_MS },
  });
  w.schedule(start, () => {
    const currency = w.profile.currencies[0]!.code;
    const customer = w.rng.pick(w.customers.filter((c) => c.currency === currency));
    inj.subjectId = customer.id;
    for (const t of [start, start + gapSeconds * 1000]) {
      w.schedule(t, () =>
        attemptPayment(w, t, {
          customer,
          amount,
          currency,
          paymentIntent: w.ids.next('pi'),
          description: 'Annual workshop ticket',
          declineP: 0,
          retriesLeft: 0,
          retryP: 0,
          retryDeclineP: 0,
          noAftermath: true,
        }),
      );
    }
  });
}

/** A customer with an active subscription in `subCurrency` is charged a one-off in `chargeCurrency`. */
export function currencyMismatch(ctx: InjectContext, start: number, subCurrency: string, chargeCurrency: string, amount: number): void {
  const w = ctx.world;
  const inj = ctx.expect({
    detector: 'currency_mismatch',
    label: `customer with a ${subCurrency.toUpperCase()} subscription charged in ${chargeCurrency.toUpperCase()}`,
    subjectType: 'charge',
    startsAt: start,
    window: { from: start, to: start + 30 * MINUTE_MS },
  });
  w.schedule(start, () => {
    // A subscription that Meterwatch has seen (it renewed or was created during the run).
    const candidates = activeWhere(w, (s) => ordinary(s) && s.currency === subCurrency && s.periodStartMs >= w.startMs && s.periodStartMs < start - 2 * 3_600_000);
    const sub = ctx.rng.pick(candidates);
    const charge = attemptPayment(w, start, {
      customer: sub.customerRef,
      amount,
      currency: chargeCurrency,
      paymentIntent: w.ids.next('pi'),
      description: 'Add-on pack (US store)',
      declineP: 0,
      retriesLeft: 0,
      retryP: 0,
      retryDeclineP: 0,
      noAftermath: true,
    });
    inj.subjectId = charge?.id;
  });
}
