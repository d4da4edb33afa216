import type { TSchema, Static } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { PricingError, type PricingErrorCode } from './pricing-error.js';

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checkerFor<T extends TSchema>(schema: T): TypeCheck<T> {
  let checker = compiled.get(schema);
  if (checker === undefined) {
    checker = TypeCompiler.Compile(schema);
    compiled.set(schema, checker);
  }
  return checker as TypeCheck<T>;
}

/** "/usageItems/0/priceConfig" → "usageItems[0].priceConfig" (the path style of PricingError). */
export function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((path, segment) => (/^\d+$/.test(segment) ? `${path}[${segment}]` : path === '' ? segment : `${path}.${segment}`), '');
}

/** Asserts `value` has the schema's shape, reporting the first few mismatches with their paths. */
export function checkSchema<T extends TSchema>(schema: T, value: unknown, code: PricingErrorCode, label: string): Static<T> {
  const checker = checkerFor(schema);
  if (checker.Check(value)) return value;
  const problems: string[] = [];
  for (const error of checker.Errors(value)) {
    const where = pointerToPath(error.path);
    problems.push(`${where === '' ? '(root)' : where}: ${error.message}`);
    if (problems.length === 5) break;
  }
  throw new PricingError(code, `invalid ${label}: ${problems.join('; ')}`);
}
