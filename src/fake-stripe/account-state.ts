import type Stripe from 'stripe';
import type { Account, SubscriptionRecord } from './account.js';
import { StripeApiError } from './errors.js';
import { paramsOf } from './params.js';
import { createCustomer } from './resources/customers.js';
import { computeSummaries, checkSummaryRange, type GroupingWindow } from './resources/event-summaries.js';
import { MeterEventRejection, ingestMeterEvent, type MeterEventInput } from './resources/meter-events.js';
import { cancelMeterEvent } from './resources/meter-event-adjustments.js';
import { createMeter, getMeter, setMeterStatus } from './resources/meters.js';
import { createPrice, renderPrice } from './resources/prices.js';
import { createProduct } from './resources/products.js';
import { createSubscription, renderSubscription } from './resources/subscriptions.js';
import type {
  CustomerObject,
  EventObject,
  MeterEventObject,
  MeterEventSummaryObject,
  MeterObject,
  PriceObject,
  ProductObject,
  SubscriptionObject,
} from './wire-types.js';

/** A meter event the fake accepted (times in seconds; `cancelled` once an adjustment cancelled it). */
export interface FakeMeterEvent {
  identifier: string;
  event_name: string;
  meter: string;
  customer: string;
  payload: Record<string, string>;
  timestamp: number;
  created: number;
  cancelled: boolean;
  source: 'v1' | 'v2';
}

/** An event Stripe would drop after accepting the request (v2 stream rules, unknown customers). */
export interface FakeMeterEventError {
  identifier: string;
  event_name: string;
  code: string;
  message: string;
  source: 'v1' | 'v2';
}

export interface FakeSummaryQuery {
  /** Meter id. */
  meter: string;
  customer: string;
  /** Seconds, inclusive; aligned like the endpoint requires. */
  start_time: number;
  /** Seconds, exclusive. */
  end_time: number;
  value_grouping_window?: GroupingWindow;
}

/**
 * What a test may see and seed in one account (one API key), without going through HTTP. Seeding uses
 * Stripe's create-param shapes and the same validation as the endpoints; every object returned is a
 * copy in Stripe's wire shape.
 */
export interface FakeAccountState {
  readonly apiKey: string;
  readonly accountId: string;
  readonly livemode: boolean;
  createCustomer(params?: Stripe.CustomerCreateParams): CustomerObject;
  customer(id: string): CustomerObject | undefined;
  /** Oldest first. */
  customers(): CustomerObject[];
  createProduct(params: Stripe.ProductCreateParams): ProductObject;
  /** The price with its `tiers` (as if expanded). */
  createPrice(params: Stripe.PriceCreateParams): PriceObject;
  prices(): PriceObject[];
  createMeter(params: Stripe.Billing.MeterCreateParams): MeterObject;
  meter(id: string): MeterObject | undefined;
  meters(): MeterObject[];
  deactivateMeter(id: string): MeterObject;
  reactivateMeter(id: string): MeterObject;
  /**
   * `currentPeriod` pins the items' current period (seconds) instead of rolling it monthly from the
   * billing cycle anchor as the clock moves.
   */
  createSubscription(params: Stripe.SubscriptionCreateParams, options?: { currentPeriod?: { start: number; end: number } }): SubscriptionObject;
  subscription(id: string): SubscriptionObject | undefined;
  subscriptions(): SubscriptionObject[];
  /** Records a meter event as if sent through v1 (same rules; throws the Stripe error it would get). */
  recordMeterEvent(input: MeterEventInput): MeterEventObject;
  cancelMeterEvent(eventName: string, identifier: string): void;
  /** Every accepted meter event, in arrival order, cancelled ones included (flagged). */
  meterEvents(): FakeMeterEvent[];
  meterEventErrors(): FakeMeterEventError[];
  /** Puts an event into the Events API list (`created` defaults to now). */
  addEvent(input: { type: string; data: { object: object; previous_attributes?: Record<string, unknown> }; created?: number; delivery_success?: boolean }): EventObject;
  /** Every event, newest first (including ones older than the API's 30-day window). */
  events(): EventObject[];
  /** The summaries the endpoint would list for this query (oldest window first). */
  meterSummaries(query: FakeSummaryQuery): MeterEventSummaryObject[];
  /** The aggregated value over the whole range (the ungrouped summary). */
  meterTotal(query: Omit<FakeSummaryQuery, 'value_grouping_window'>): number;
}

export class FakeAccountStateImpl implements FakeAccountState {
  constructor(
    private readonly account: Account,
    private readonly options: { acceptDecimalValues: boolean },
  ) {}

  get apiKey(): string {
    return this.account.apiKey;
  }
  get accountId(): string {
    return this.account.id;
  }
  get livemode(): boolean {
    return this.account.livemode;
  }

  createCustomer(params: Stripe.CustomerCreateParams = {}): CustomerObject {
    return copy(
      createCustomer(this.account, {
        email: params.email ?? null,
        name: params.name ?? null,
        description: params.description ?? null,
        phone: params.phone ?? null,
        metadata: (params.metadata ?? {}) as Record<string, string>,
      }),
    );
  }
  customer(id: string): CustomerObject | undefined {
    const c = this.account.customers.get(id);
    return c && copy(c);
  }
  customers(): CustomerObject[] {
    return [...this.account.customers.values()].map(copy);
  }

  createProduct(params: Stripe.ProductCreateParams): ProductObject {
    return copy(createProduct(this.account, { name: params.name, description: params.description ?? null, metadata: params.metadata as Record<string, string> | undefined }));
  }

  createPrice(params: Stripe.PriceCreateParams): PriceObject {
    const price = createPrice(this.account, paramsOf(params as unknown as Record<string, unknown>));
    return renderPrice(price, new Set(['tiers']));
  }
  prices(): PriceObject[] {
    return [...this.account.prices.values()].map((p) => renderPrice(p, new Set(['tiers'])));
  }

  createMeter(params: Stripe.Billing.MeterCreateParams): MeterObject {
    return copy(createMeter(this.account, paramsOf(params as unknown as Record<string, unknown>)));
  }
  meter(id: string): MeterObject | undefined {
    const m = this.account.meters.get(id);
    return m && copy(m);
  }
  meters(): MeterObject[] {
    return [...this.account.meters.values()].map(copy);
  }
  deactivateMeter(id: string): MeterObject {
    return copy(setMeterStatus(this.account, getMeter(this.account, id), 'inactive'));
  }
  reactivateMeter(id: string): MeterObject {
    return copy(setMeterStatus(this.account, getMeter(this.account, id), 'active'));
  }

  createSubscription(params: Stripe.SubscriptionCreateParams, options: { currentPeriod?: { start: number; end: number } } = {}): SubscriptionObject {
    const record = createSubscription(this.account, paramsOf(params as unknown as Record<string, unknown>));
    if (options.currentPeriod) record.fixedPeriod = { ...options.currentPeriod };
    return this.render(record);
  }
  subscription(id: string): SubscriptionObject | undefined {
    const s = this.account.subscriptions.get(id);
    return s && this.render(s);
  }
  subscriptions(): SubscriptionObject[] {
    return [...this.account.subscriptions.values()].map((s) => this.render(s));
  }
  private render(s: SubscriptionRecord): SubscriptionObject {
    return renderSubscription(this.account, s, new Set(['items.data.price.tiers']));
  }

  recordMeterEvent(input: MeterEventInput): MeterEventObject {
    try {
      return ingestMeterEvent(this.account, input, { source: 'v1', acceptDecimalValues: this.options.acceptDecimalValues }).object;
    } catch (error) {
      if (error instanceof MeterEventRejection) throw new Error(`meter event rejected (${error.code ?? 'invalid_request_error'}): ${error.message}`);
      throw error;
    }
  }
  cancelMeterEvent(eventName: string, identifier: string): void {
    unwrap(() => cancelMeterEvent(this.account, eventName, identifier));
  }
  meterEvents(): FakeMeterEvent[] {
    return this.account.meterEvents.map((e) => ({
      identifier: e.identifier,
      event_name: e.event_name,
      meter: e.meter,
      customer: e.customer,
      payload: { ...e.payload },
      timestamp: e.timestamp,
      created: e.created,
      cancelled: e.cancelled,
      source: e.source,
    }));
  }
  meterEventErrors(): FakeMeterEventError[] {
    return this.account.meterEventErrors.map(({ identifier, event_name, code, message, source }) => ({ identifier, event_name, code, message, source }));
  }

  addEvent(input: { type: string; data: { object: object; previous_attributes?: Record<string, unknown> }; created?: number; delivery_success?: boolean }): EventObject {
    return copy(
      this.account.recordEvent(input.type, input.data.object, {
        ...(input.created !== undefined ? { created: input.created } : {}),
        ...(input.delivery_success !== undefined ? { deliverySuccess: input.delivery_success } : {}),
        ...(input.data.previous_attributes ? { previousAttributes: input.data.previous_attributes } : {}),
      }),
    );
  }
  events(): EventObject[] {
    return [...this.account.events].sort((a, b) => b.event.created - a.event.created || b.seq - a.seq).map((r) => copy(r.event));
  }

  meterSummaries(query: FakeSummaryQuery): MeterEventSummaryObject[] {
    return unwrap(() => {
      const q = {
        customer: query.customer,
        startTime: query.start_time,
        endTime: query.end_time,
        ...(query.value_grouping_window ? { valueGroupingWindow: query.value_grouping_window } : {}),
      };
      checkSummaryRange(q);
      return computeSummaries(this.account, getMeter(this.account, query.meter), q);
    });
  }
  meterTotal(query: Omit<FakeSummaryQuery, 'value_grouping_window'>): number {
    return this.meterSummaries(query)[0]?.aggregated_value ?? 0;
  }
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

/** Seeding mistakes surface as plain errors carrying Stripe's message. */
function unwrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof StripeApiError) throw new Error(`${error.body.type}${error.body.code ? ` (${error.body.code})` : ''}: ${error.body.message}`);
    throw error;
  }
}
