import type { FormObject, FormValue } from './form-parser.js';
import { invalidEnum, invalidInteger, invalidRequest, missingParam, unknownParam } from './errors.js';

/**
 * Typed reads of a parsed request (v1 form or v2 JSON). Stripe rejects unknown parameters and names the
 * offending one, so every endpoint lists what it accepts: a client sending a misspelt field finds out
 * here, as it would against Stripe.
 */
export class Params {
  constructor(
    readonly raw: Record<string, unknown>,
    private readonly prefix = '',
  ) {}

  allowOnly(keys: readonly string[]): this {
    for (const key of Object.keys(this.raw)) {
      if (!keys.includes(key)) throw unknownParam(this.name(key));
    }
    return this;
  }

  has(key: string): boolean {
    return this.raw[key] !== undefined;
  }

  name(key: string): string {
    return this.prefix ? `${this.prefix}[${key}]` : key;
  }

  string(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw invalidRequest(`Invalid string: ${this.name(key)} must be a string`, { param: this.name(key) });
    return v;
  }

  requiredString(key: string): string {
    const v = this.string(key);
    if (v === undefined || v === '') throw missingParam(this.name(key));
    return v;
  }

  /** A v1 integer arrives as a string; v2 JSON may carry a number. */
  integer(key: string): number | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
    throw invalidInteger(this.name(key), String(v));
  }

  requiredInteger(key: string): number {
    const v = this.integer(key);
    if (v === undefined) throw missingParam(this.name(key));
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    throw invalidRequest(`Invalid boolean: ${String(v)}`, { param: this.name(key) });
  }

  enumOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(v)) throw invalidEnum(this.name(key), v, allowed);
    return v as T;
  }

  object(key: string): Params | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw invalidRequest(`Invalid object: ${this.name(key)} must be a hash`, { param: this.name(key) });
    return new Params(v as Record<string, unknown>, this.name(key));
  }

  array(key: string): Params[] {
    const v = this.raw[key];
    if (v === undefined || v === '') return [];
    if (!Array.isArray(v)) throw invalidRequest(`Invalid array: ${this.name(key)} must be an array`, { param: this.name(key) });
    return v.map((item, i) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item))
        throw invalidRequest(`Invalid object: ${this.name(key)}[${i}] must be a hash`, { param: `${this.name(key)}[${i}]` });
      return new Params(item as Record<string, unknown>, `${this.name(key)}[${i}]`);
    });
  }

  stringArray(key: string): string[] {
    const v = this.raw[key];
    if (v === undefined || v === '') return [];
    if (typeof v === 'string') return [v];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
      throw invalidRequest(`Invalid array: ${this.name(key)} must be an array of strings`, { param: this.name(key) });
    return v as string[];
  }

  /** `metadata[k]=v` pairs; an empty string value removes the key on update, as on Stripe. */
  stringMap(key: string): Record<string, string> | undefined {
    const v = this.raw[key];
    if (v === undefined) return undefined;
    if (v === '') return {};
    if (typeof v !== 'object' || v === null || Array.isArray(v))
      throw invalidRequest(`Invalid object: ${this.name(key)} must be a hash`, { param: this.name(key) });
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v as Record<string, FormValue>)) {
      if (typeof val !== 'string') throw invalidRequest(`Invalid ${this.name(key)}[${k}]: must be a string`, { param: `${this.name(key)}[${k}]` });
      out[k] = val;
    }
    return out;
  }
}

export function paramsOf(body: FormObject | Record<string, unknown>): Params {
  return new Params(body as Record<string, unknown>);
}
