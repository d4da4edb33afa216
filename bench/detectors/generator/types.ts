/** Shared shapes of the synthetic traffic: generated events, deliveries and injected anomalies. */

export type Json = Record<string, unknown>;

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** One Stripe event as generated: the envelope is already rendered (the object is a snapshot). */
export interface SimEvent {
  tenantKey: string;
  id: string;
  type: string;
  /** Stripe `created`, epoch seconds. */
  created: number;
  /** The exact JSON body Stripe would send. */
  payload: string;
}

/** One delivery attempt that reaches Meterwatch (a redelivery carries the same event id). */
export interface Delivery {
  tenantKey: string;
  eventId: string;
  type: string;
  created: number;
  /** Epoch ms at which the request arrives. */
  receivedAt: number;
  payload: string;
  redelivery: boolean;
}

export type SubjectType = 'tenant' | 'customer' | 'charge' | 'subscription' | 'invoice';

/** A planted anomaly with the incident a correct detector should raise for it. */
export interface Injection {
  id: string;
  tenantKey: string;
  /** The detector expected to find it. */
  detector: string;
  /** Short human description. */
  label: string;
  subjectType: SubjectType;
  /** Filled when the injection runs (the customer, charge, subscription or invoice it created). */
  subjectId: string | undefined;
  /** When the anomalous traffic starts (ms). */
  startsAt: number;
  /** The detection window (ms): an incident opened or triggered in [from, to] counts. */
  window: { from: number; to: number };
  /**
   * Other detectors whose incidents on this tenant in the same window are a true consequence of the
   * same anomaly (e.g. a webhook outage makes the redelivered backlog late). They are reported as
   * "explained", never as false positives, and are not required for recall.
   */
  explains: string[];
}
