import type { CountWithAmounts, DigestContent } from './digest-content.js';

/**
 * The digest's figures as label/value rows, shared by every renderer so Slack, Discord and email
 * say the same thing. Amounts stay one line per currency.
 */
export interface DigestRow {
  label: string;
  count: number;
  /** One formatted amount per currency, e.g. ["40.00 USD", "1,500 JPY"]. */
  amounts: string[];
}

const row = (label: string, value: CountWithAmounts): DigestRow => ({ label, count: value.count, amounts: value.amounts.map((a) => a.formatted) });

export function digestRows(d: DigestContent): DigestRow[] {
  return [
    { label: 'Events received', count: d.events.received, amounts: [] },
    row('Charges succeeded', d.charges.succeeded),
    row('Charges failed', d.charges.failed),
    row('Refunds', d.refunds),
    row('Disputes', d.disputes),
    row('New subscriptions', d.subscriptions.new),
    row('Canceled subscriptions', d.subscriptions.canceled),
  ];
}

/** "3" or "3 (40.00 USD, 15.00 EUR)". */
export function rowText(r: DigestRow): string {
  return r.amounts.length === 0 ? String(r.count) : `${r.count} (${r.amounts.join(', ')})`;
}

/** How many open incidents a message lists before "and N more". */
export const DIGEST_INCIDENT_LIMIT = 10;
