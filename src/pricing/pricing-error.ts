/**
 * Every failure of the pricing library is a PricingError with a stable `code`, so the HTTP layer and
 * the CLI can map it (e.g. to a 400 with `{code, message, path}`) without parsing messages.
 */
export type PricingErrorCode =
  | 'INVALID_DECIMAL'
  | 'INVALID_QUANTITY'
  | 'INVALID_PRICE'
  | 'INVALID_AMOUNT'
  | 'UNKNOWN_CURRENCY'
  | 'INVALID_CONFIG'
  | 'INVALID_TIERS'
  | 'INVALID_SIMULATION'
  | 'INVALID_PERIOD'
  | 'DUPLICATE_COMMITMENT'
  | 'AMOUNT_OVERFLOW'
  | 'UNSUPPORTED_STRIPE_PRICE'
  | 'INVALID_SCENARIO';

export class PricingError extends Error {
  readonly code: PricingErrorCode;
  /** Where in the input the problem is, e.g. `usageItems[0].priceConfig.tiers[1].upTo`. */
  readonly path: string | undefined;

  constructor(code: PricingErrorCode, message: string, path?: string) {
    super(path === undefined || path === '' ? message : `${path}: ${message}`);
    this.name = 'PricingError';
    this.code = code;
    this.path = path === '' ? undefined : path;
  }

  /** The same error located deeper in a larger input (paths are built outside-in as errors bubble up). */
  withPathPrefix(prefix: string): PricingError {
    const path = this.path === undefined ? prefix : joinPath(prefix, this.path);
    const bare = this.path === undefined ? this.message : this.message.slice(this.path.length + 2);
    const error = new PricingError(this.code, bare, path);
    error.stack = this.stack;
    return error;
  }
}

export function joinPath(prefix: string, rest: string): string {
  if (prefix === '') return rest;
  if (rest === '') return prefix;
  return rest.startsWith('[') ? `${prefix}${rest}` : `${prefix}.${rest}`;
}

/** Run `fn`, re-throwing any PricingError with `prefix` prepended to its path. */
export function atPath<T>(prefix: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof PricingError) throw error.withPathPrefix(prefix);
    throw error;
  }
}
