import type { DigestFrequency } from '../store/alert-store.js';

/** An amount in one currency: exact integer minor units, never summed with another currency. */
export interface MoneyTotal {
  currency: string;
  /** How many objects (charges, refunds, …) make up the amount. */
  count: number;
  amount: number;
  /** "1,234.50 USD" (zero-decimal currencies have no decimals). */
  formatted: string;
}

export interface CountWithAmounts {
  count: number;
  amounts: MoneyTotal[];
}

export interface DigestIncident {
  id: string;
  detector: string;
  severity: string;
  status: string;
  summary: string;
  openedAt: string;
  url: string;
}

/** The digest as `GET /v1/digest` returns it and as every channel renders it. */
export interface DigestContent {
  tenantId: string;
  period: {
    frequency: Exclude<DigestFrequency, 'off'>;
    /** [start, end) in ISO 8601 UTC; boundaries fall on the local hour of `timeZone`. */
    start: string;
    end: string;
    timeZone: string;
    /** "2026-11-19 09:00 – 2026-11-20 09:00 (Europe/Paris)". */
    label: string;
  };
  /** Stored events whose Stripe time falls in the period. */
  events: { received: number };
  charges: { succeeded: CountWithAmounts; failed: CountWithAmounts };
  refunds: CountWithAmounts;
  disputes: CountWithAmounts;
  subscriptions: { new: CountWithAmounts; canceled: CountWithAmounts };
  openIncidents: { total: number; items: DigestIncident[] };
  /** Nothing happened and nothing is open: a digest that would say nothing. */
  empty: boolean;
}
