import { PricingError } from './pricing-error.js';

/**
 * Minor-unit exponents: how many decimals one major unit has in Stripe's API amounts (`amount`,
 * `unit_amount`, …), which is what our `*Minor` amounts must equal. That is the ISO 4217 exponent
 * except where Stripe deliberately differs (https://docs.stripe.com/currencies):
 *
 * - Stripe's zero-decimal currencies: BIF CLP DJF GNF JPY KMF KRW MGA PYG RWF UGX VND VUV XAF XOF XPF
 *   (MGA is 2 in ISO 4217, 0 in Stripe).
 * - ISK is 0 in ISO 4217 but stays a two-decimal currency in Stripe's API (amount 100 = 1 króna;
 *   since 2023 Stripe requires ISK amounts divisible by 100 for charges).
 * - Three-decimal currencies BHD JOD KWD OMR TND (Stripe also asks charge amounts in them to end in 0).
 *
 * Unknown codes are rejected rather than assumed to have 2 decimals: a wrong exponent is a 10× or
 * 100× billing error.
 */
export const STRIPE_ZERO_DECIMAL_CURRENCIES: readonly string[] = [
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
];

export const THREE_DECIMAL_CURRENCIES: readonly string[] = ['bhd', 'iqd', 'jod', 'kwd', 'lyd', 'omr', 'tnd'];

/** Two-decimal currencies Stripe presents (and a few common ISO ones); the bulk of the table. */
const TWO_DECIMAL_CURRENCIES: readonly string[] = [
  'aed', 'afn', 'all', 'amd', 'ang', 'aoa', 'ars', 'aud', 'awg', 'azn', 'bam', 'bbd', 'bdt', 'bgn', 'bmd',
  'bnd', 'bob', 'brl', 'bsd', 'btn', 'bwp', 'byn', 'bzd', 'cad', 'cdf', 'chf', 'cny', 'cop', 'crc', 'cup',
  'cve', 'czk', 'dkk', 'dop', 'dzd', 'egp', 'ern', 'etb', 'eur', 'fjd', 'fkp', 'gbp', 'gel', 'ghs', 'gip',
  'gmd', 'gtq', 'gyd', 'hkd', 'hnl', 'htg', 'huf', 'idr', 'ils', 'inr', 'irr', 'isk', 'jmd', 'kes', 'kgs',
  'khr', 'kpw', 'kyd', 'kzt', 'lak', 'lbp', 'lkr', 'lrd', 'lsl', 'mad', 'mdl', 'mkd', 'mmk', 'mnt', 'mop',
  'mru', 'mur', 'mvr', 'mwk', 'mxn', 'myr', 'mzn', 'nad', 'ngn', 'nio', 'nok', 'npr', 'nzd', 'pab', 'pen',
  'pgk', 'php', 'pkr', 'pln', 'qar', 'ron', 'rsd', 'rub', 'sar', 'sbd', 'scr', 'sdg', 'sek', 'sgd', 'shp',
  'sle', 'sll', 'sos', 'srd', 'ssp', 'std', 'stn', 'svc', 'syp', 'szl', 'thb', 'tjs', 'tmt', 'top', 'try',
  'ttd', 'twd', 'tzs', 'uah', 'usd', 'uyu', 'uzs', 'ves', 'wst', 'xcd', 'yer', 'zar', 'zmw', 'zwl',
];

export const CURRENCY_EXPONENTS: ReadonlyMap<string, number> = new Map<string, number>([
  ...TWO_DECIMAL_CURRENCIES.map((code) => [code, 2] as const),
  ...STRIPE_ZERO_DECIMAL_CURRENCIES.map((code) => [code, 0] as const),
  ...THREE_DECIMAL_CURRENCIES.map((code) => [code, 3] as const),
]);

const CURRENCY_CODE = /^[a-z]{3}$/;

/** Lower-case 3-letter code, as Stripe writes currencies; 'USD' is accepted and normalised. */
export function normalizeCurrency(code: string): string {
  const lower = code.toLowerCase();
  if (!CURRENCY_CODE.test(lower)) {
    throw new PricingError('UNKNOWN_CURRENCY', `${JSON.stringify(code)} is not a 3-letter ISO 4217 currency code`);
  }
  if (!CURRENCY_EXPONENTS.has(lower)) {
    throw new PricingError('UNKNOWN_CURRENCY', `unsupported currency ${JSON.stringify(code)} (no known minor-unit exponent)`);
  }
  return lower;
}

/** Decimals of one major unit in Stripe amounts: usd → 2, jpy → 0, kwd → 3. */
export function currencyExponent(code: string): number {
  const exponent = CURRENCY_EXPONENTS.get(normalizeCurrency(code));
  if (exponent === undefined) throw new PricingError('UNKNOWN_CURRENCY', `unsupported currency ${JSON.stringify(code)}`);
  return exponent;
}

export function isZeroDecimalCurrency(code: string): boolean {
  return currencyExponent(code) === 0;
}
