export { Decimal, plainDecimalString, type DecimalInput, type RoundingMode } from './decimal.js';
export { PricingError, type PricingErrorCode } from './pricing-error.js';
export {
  CURRENCY_EXPONENTS,
  STRIPE_ZERO_DECIMAL_CURRENCIES,
  THREE_DECIMAL_CURRENCIES,
  currencyExponent,
  isZeroDecimalCurrency,
  normalizeCurrency,
} from './currencies.js';
export { formatMinor, minorToNumber, toMoney, type Money } from './format-money.js';
export { STRIPE_LINE_ROUNDING, allocateRounded, roundMinorUnits } from './rounding.js';
export {
  DecimalValueSchema,
  PriceConfigSchema,
  PriceModelSchema,
  PriceTierSchema,
  QuantityValueSchema,
  TierUpToSchema,
  type PriceConfig,
  type PriceModel,
  type PriceModelInput,
  type PriceTier,
} from './price-config-schema.js';
export { MAX_QUANTITY_DECIMALS, parseQuantity } from './parse-quantity.js';
export { compilePrice, type CompiledPrice, type CompiledTier } from './compile-price.js';
export { priceLine, type PricedLine, type PricedTier } from './price-line.js';
export {
  fromStripePrice,
  type FromStripePriceOptions,
  type StripePriceLike,
  type StripeTierLike,
  type StripeTransformLike,
} from './from-stripe-price.js';
export {
  CommitmentSchema,
  CreditSchema,
  SimulationInputSchema,
  StripePriceInputSchema,
  UsageItemSchema,
  type Commitment,
  type Credit,
  type SimulationInput,
  type UsageItem,
} from './simulation-schema.js';
export {
  CurrencyTotalSchema,
  MoneySchema,
  SimulatedLineSchema,
  SimulatedTierSchema,
  SimulationResultSchema,
  type CurrencyTotal,
  type SimulatedLine,
  type SimulatedTier,
  type SimulationResult,
} from './simulation-result.js';
export { InvoiceSimulator } from './invoice-simulator.js';
export { projectQuantity, type QuantityProjectionInput } from './project-quantity.js';
export { projectInvoice, type InvoiceProjection } from './project-invoice.js';
export type { Scenario } from './scenario.js';
export { parseExpected, parseScenario } from './parse-scenario.js';
export { runScenario } from './run-scenario.js';
export { diffResults } from './diff-results.js';
