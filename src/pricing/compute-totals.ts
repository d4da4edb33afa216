import { normalizeCurrency } from './currencies.js';
import type { Decimal } from './decimal.js';
import { toMoney } from './format-money.js';
import { parseMinorAmount } from './parse-money-input.js';
import { taxOn } from './parse-tax-rate.js';
import type { PricedLine } from './price-line.js';
import { atPath, PricingError } from './pricing-error.js';
import type { CurrencyTotal } from './simulation-result.js';
import type { Commitment, Credit } from './simulation-schema.js';

interface Bucket {
  subtotal: bigint;
  commitment: bigint | null;
  credits: bigint;
}

/**
 * Per-currency invoice totals. Order of operations, per currency (never across currencies):
 * 1. subtotal = sum of the (already rounded) line amounts;
 * 2. commitment: a minimum spend tops the subtotal up to the committed amount;
 * 3. credits (prepaid / promotional, like Stripe's credit grants, which apply before tax — Stripe
 *    reports them as `pretax_credit_amounts` on invoice lines) cover at most what is owed, so the
 *    total never goes below 0 and unused credit is reported as remaining;
 * 4. tax = taxable × rate %, rounded once half-up; total = taxable + tax.
 */
export function computeTotals(
  lines: readonly PricedLine[],
  commitments: readonly Commitment[],
  credits: readonly Credit[],
  taxRate: Decimal | null,
): CurrencyTotal[] {
  const buckets = new Map<string, Bucket>();
  const bucket = (currency: string): Bucket => {
    let found = buckets.get(currency);
    if (found === undefined) {
      found = { subtotal: 0n, commitment: null, credits: 0n };
      buckets.set(currency, found);
    }
    return found;
  };

  for (const line of lines) bucket(line.price.currency).subtotal += line.amountMinor;
  commitments.forEach((commitment, position) =>
    atPath(`commitments[${position}]`, () => {
      const target = bucket(atPath('currency', () => normalizeCurrency(commitment.currency)));
      if (target.commitment !== null) {
        throw new PricingError('DUPLICATE_COMMITMENT', `more than one commitment in ${commitment.currency.toLowerCase()}`, 'currency');
      }
      target.commitment = atPath('minimumAmountMinor', () => parseMinorAmount(commitment.minimumAmountMinor, 'minimumAmountMinor'));
    }),
  );
  credits.forEach((credit, position) =>
    atPath(`credits[${position}]`, () => {
      const target = bucket(atPath('currency', () => normalizeCurrency(credit.currency)));
      target.credits += atPath('amountMinor', () => parseMinorAmount(credit.amountMinor, 'amountMinor'));
    }),
  );

  return [...buckets].map(([currency, totals]) => currencyTotal(currency, totals, taxRate));
}

function currencyTotal(currency: string, bucket: Bucket, taxRate: Decimal | null): CurrencyTotal {
  const topUp = bucket.commitment !== null && bucket.commitment > bucket.subtotal ? bucket.commitment - bucket.subtotal : 0n;
  const owed = bucket.subtotal + topUp;
  const creditsApplied = bucket.credits < owed ? bucket.credits : owed;
  const taxable = owed - creditsApplied;
  const tax = taxRate === null ? 0n : taxOn(taxable, taxRate);
  return {
    currency,
    subtotal: toMoney(bucket.subtotal, currency),
    commitment:
      bucket.commitment === null ? null : { minimum: toMoney(bucket.commitment, currency), topUp: toMoney(topUp, currency) },
    creditsApplied: toMoney(creditsApplied, currency),
    creditsRemaining: toMoney(bucket.credits - creditsApplied, currency),
    taxable: toMoney(taxable, currency),
    tax: toMoney(tax, currency),
    total: toMoney(taxable + tax, currency),
  };
}
