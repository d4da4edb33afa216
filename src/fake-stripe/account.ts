import { newId } from './ids.js';
import type {
  CustomerObject,
  EventObject,
  MeterObject,
  PriceObject,
  PriceTier,
  ProductObject,
} from './wire-types.js';

/** One accepted meter event (v1 or v2), kept in arrival order. Times in Stripe's seconds. */
export interface MeterEventRecord {
  identifier: string;
  event_name: string;
  meter: string;
  customer: string;
  /** The raw value string from the payload (null for a `count` meter without one). */
  value: string | null;
  payload: Record<string, string>;
  timestamp: number;
  created: number;
  /** When the fake accepted it (epoch ms): the 24-hour identifier and cancel windows run from here. */
  acceptedAtMs: number;
  cancelled: boolean;
  source: 'v1' | 'v2';
}

/** An event Stripe would have rejected asynchronously (reported via `v1.billing.meter.error_report_triggered`). */
export interface MeterEventErrorRecord {
  identifier: string;
  event_name: string;
  code: string;
  message: string;
  source: 'v1' | 'v2';
  atMs: number;
}

export interface SubscriptionItemRecord {
  id: string;
  price: string;
  quantity: number | undefined;
  created: number;
  metadata: Record<string, string>;
}

export interface SubscriptionRecord {
  id: string;
  customer: string;
  created: number;
  startDate: number;
  billingCycleAnchor: number;
  items: SubscriptionItemRecord[];
  metadata: Record<string, string>;
  description: string | null;
  status: 'active' | 'canceled';
  canceledAt: number | null;
  /** A period fixed by a test seed instead of rolled from the anchor. */
  fixedPeriod: { start: number; end: number } | null;
}

export interface EventRecord {
  seq: number;
  event: EventObject;
  deliverySuccess: boolean;
}

export interface IdempotentResult {
  fingerprint: string;
  status: number;
  body: unknown;
  expiresAtMs: number;
}

export type StoredPrice = PriceObject & { tiers: PriceTier[] | undefined };

/** All objects of one API key (one account in one mode). Nothing is shared between keys. */
export class Account {
  readonly customers = new Map<string, CustomerObject>();
  readonly products = new Map<string, ProductObject>();
  readonly prices = new Map<string, StoredPrice>();
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly meters = new Map<string, MeterObject>();
  readonly meterEvents: MeterEventRecord[] = [];
  /** identifier → its most recent accepted event. */
  readonly identifiers = new Map<string, MeterEventRecord>();
  readonly meterEventErrors: MeterEventErrorRecord[] = [];
  readonly events: EventRecord[] = [];
  readonly idempotency = new Map<string, IdempotentResult>();
  private eventSeq = 0;

  constructor(
    readonly apiKey: string,
    readonly livemode: boolean,
    readonly id: string,
    readonly now: () => number,
  ) {}

  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Adds an event to the Events API list (what Stripe records when an object changes). */
  recordEvent(
    type: string,
    object: object,
    options: { created?: number; deliverySuccess?: boolean; previousAttributes?: Record<string, unknown>; idempotencyKey?: string | null; requestId?: string | null } = {},
  ): EventObject {
    const event: EventObject = {
      id: newId('evt'),
      object: 'event',
      api_version: '2026-10-28.endive',
      created: options.created ?? this.nowSeconds(),
      data: {
        object: structuredClone(object) as Record<string, unknown>,
        ...(options.previousAttributes ? { previous_attributes: options.previousAttributes } : {}),
      },
      livemode: this.livemode,
      pending_webhooks: options.deliverySuccess === false ? 1 : 0,
      request: { id: options.requestId ?? null, idempotency_key: options.idempotencyKey ?? null },
      type,
    };
    this.eventSeq += 1;
    this.events.push({ seq: this.eventSeq, event, deliverySuccess: options.deliverySuccess ?? true });
    return event;
  }
}
