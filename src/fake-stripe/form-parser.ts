/**
 * Stripe's v1 wire format: `application/x-www-form-urlencoded` bodies and query strings whose keys use
 * bracket notation (`payload[value]=3`, `items[0][price]=price_x`, `expand[]=tiers`). Brackets may
 * arrive raw or percent-encoded; URLSearchParams decodes both. Every leaf value stays a string, as on
 * the wire: each resource decides what a number is.
 */
export type FormValue = string | FormObject | FormValue[];
export interface FormObject {
  [key: string]: FormValue;
}

export class FormParseError extends Error {}

export function parseForm(text: string): FormObject {
  const root: FormObject = {};
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const path = splitKey(rawKey);
    if (path === null) throw new FormParseError(`Invalid parameter name: ${rawKey}`);
    assign(root, path, value);
  }
  return finalizeArrays(root) as FormObject;
}

/** `a[b][0][]` → ['a', 'b', '0', ''] (the empty segment means "append"). */
function splitKey(key: string): string[] | null {
  const open = key.indexOf('[');
  if (open === -1) return key.length > 0 ? [key] : null;
  const head = key.slice(0, open);
  if (head.length === 0) return null;
  const parts = [head];
  let rest = key.slice(open);
  while (rest.length > 0) {
    const match = /^\[([^\]]*)\]/.exec(rest);
    if (match === null) return null;
    parts.push(match[1] ?? '');
    rest = rest.slice(match[0].length);
  }
  return parts;
}

// Numeric and empty segments build "array-like" objects first; finalizeArrays turns those into arrays
// once every pair is in, so `items[1]` arriving before `items[0]` still lands in order.
const APPEND = Symbol('append');
type Building = { [key: string]: unknown; [APPEND]?: number };

function assign(target: Building | FormObject, path: string[], value: string): void {
  let node = target as Building;
  for (let i = 0; i < path.length; i += 1) {
    const segment = path[i] as string;
    const last = i === path.length - 1;
    const key = segment === '' ? String(((node[APPEND] as number | undefined) ?? 0)) : segment;
    if (segment === '') node[APPEND] = Number(key) + 1;
    if (last) {
      node[key] = value;
      return;
    }
    const existing = node[key];
    if (existing === undefined || typeof existing === 'string') {
      const child: Building = {};
      node[key] = child;
      node = child;
    } else {
      node = existing as Building;
    }
  }
}

function finalizeArrays(node: unknown): FormValue {
  if (typeof node === 'string') return node;
  const obj = node as Building;
  const keys = Object.keys(obj);
  const isArray = keys.length > 0 && (APPEND in obj || keys.every((k) => /^\d+$/.test(k)));
  if (isArray) {
    return keys
      .map(Number)
      .sort((a, b) => a - b)
      .map((k) => finalizeArrays(obj[String(k)]));
  }
  const out: FormObject = {};
  for (const k of keys) out[k] = finalizeArrays(obj[k]);
  return out;
}
