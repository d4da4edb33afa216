/**
 * Orders strings by UTF-16 code units, the same on every machine: ids and currency codes sort
 * for determinism, not for people. `localeCompare` would depend on the ICU data and locale of the
 * process (and costs a collator call per comparison).
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
