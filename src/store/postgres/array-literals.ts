/**
 * Row-major parameters → one PostgreSQL array literal per column (`{"a","b",NULL}`), for statements
 * that take a batch as `unnest($1::text[], $2::bigint[], …)`.
 *
 * Why not hand pg the JS arrays: its generic array serialiser runs two regex replaces and a type
 * dispatch per element, about a third of the ingest's JavaScript per event (measured with
 * bench/ingest-cost.ts). Here every string is quoted (so empty strings, `NULL`, commas and braces
 * need nothing special) and escaped only when it holds `"` or `\`, the two characters that are
 * special inside quotes. Numbers are integers (epoch ms, counts) and bigints are micro-units: their
 * decimal text is the literal. Booleans are sent as `t`/`f`.
 */
const SPECIAL = /["\\]/;
const SPECIAL_ALL = /["\\]/g;

export function columnLiterals(params: readonly unknown[], width: number): string[] {
  const rows = params.length / width;
  const out: string[] = new Array(width);
  // One join per column: appending element by element built a rope of ~rows nodes that was then
  // flattened, allocating about twice the literal (measured on 5,000 rows × 12 columns: 37 % fewer
  // young-generation collections, 12 % less CPU).
  const items: string[] = new Array(rows);
  for (let c = 0; c < width; c++) {
    for (let r = 0, p = c; r < rows; r++, p += width) items[r] = element(params[p]);
    out[c] = `{${items.join(',')}}`;
  }
  return out;
}

function element(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  switch (typeof v) {
    case 'string':
      return SPECIAL.test(v) ? `"${v.replace(SPECIAL_ALL, '\\$&')}"` : `"${v}"`;
    case 'number':
      if (!Number.isFinite(v)) throw new Error(`cannot send ${v} in an array parameter`);
      return String(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 't' : 'f';
    default:
      throw new Error(`cannot send a ${typeof v} in an array parameter`);
  }
}
