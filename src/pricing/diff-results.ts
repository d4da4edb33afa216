/**
 * Differences between an actual simulation result and an expected one, as human-readable lines such
 * as `totals[0].total.minor: expected 112000, got 112001`. Empty means they match.
 *
 * `expected` may be partial: only the fields it lists are compared (so a test can pin just the totals),
 * but arrays it lists must have the same length. A number and a string match when the string is the
 * number's text (112000 vs "112000"), since JSON and YAML files disagree on quoting.
 */
export function diffResults(actual: unknown, expected: unknown): string[] {
  const differences: string[] = [];
  compare(actual, expected, '', differences);
  return differences;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

function label(path: string): string {
  return path === '' ? '(root)' : path;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function samePrimitive(actual: unknown, expected: unknown): boolean {
  if (actual === expected) return true;
  if (typeof actual === 'number' && typeof expected === 'string') return String(actual) === expected;
  if (typeof actual === 'string' && typeof expected === 'number') return actual === String(expected);
  return false;
}

function compare(actual: unknown, expected: unknown, path: string, out: string[]): void {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) {
      out.push(`${label(path)}: expected a list, got ${describe(actual)}`);
      return;
    }
    if (actual.length !== expected.length) {
      out.push(`${label(path)}: expected ${expected.length} item(s), got ${actual.length}`);
    }
    const common = Math.min(actual.length, expected.length);
    for (let index = 0; index < common; index++) compare(actual[index], expected[index], `${path}[${index}]`, out);
    return;
  }
  if (isRecord(expected)) {
    if (!isRecord(actual)) {
      out.push(`${label(path)}: expected an object, got ${describe(actual)}`);
      return;
    }
    for (const key of Object.keys(expected)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      if (!(key in actual)) {
        out.push(`${childPath}: expected ${describe(expected[key])}, but it is missing`);
        continue;
      }
      compare(actual[key], expected[key], childPath, out);
    }
    return;
  }
  if (!samePrimitive(actual, expected)) {
    out.push(`${label(path)}: expected ${describe(expected)}, got ${describe(actual)}`);
  }
}
