/** The JSON objects the fake returns, in Stripe's field names (a subset of each real object). */

export interface CustomerObject {
  id: string;
  object: 'customer';
  address: null;
  balance: number;
  created: number;
  currency: string | null;
  default_source: null;
  delinquent: boolean;
  description: string | null;
  discount: null;
  email: string | null;
  invoice_prefix: string;
  invoice_settings: { custom_fields: null; default_payment_method: null; footer: null; rendering_options: null };
  livemode: boolean;
  metadata: Record<string, string>;
  name: string | null;
  next_invoice_sequence: number;
  phone: string | null;
  preferred_locales: string[];
  shipping: null;
  tax_exempt: 'none';
  test_clock: null;
}

export interface ProductObject {
  id: string;
  object: 'product';
  active: boolean;
  created: number;
  description: string | null;
  livemode: boolean;
  metadata: Record<string, string>;
  name: string;
  type: 'service';
  updated: number;
}

export interface PriceTier {
  flat_amount: number | null;
  flat_amount_decimal: string | null;
  unit_amount: number | null;
  unit_amount_decimal: string | null;
  up_to: number | null;
}

export interface PriceObject {
  id: string;
  object: 'price';
  active: boolean;
  billing_scheme: 'per_unit' | 'tiered';
  created: number;
  currency: string;
  custom_unit_amount: null;
  livemode: boolean;
  lookup_key: string | null;
  metadata: Record<string, string>;
  nickname: string | null;
  product: string;
  recurring: {
    interval: 'day' | 'week' | 'month' | 'year';
    interval_count: number;
    meter: string | null;
    trial_period_days: number | null;
    usage_type: 'licensed' | 'metered';
  } | null;
  tax_behavior: 'exclusive' | 'inclusive' | 'unspecified';
  /** Only present when expanded (`expand[]=tiers`), as on Stripe. */
  tiers?: PriceTier[];
  tiers_mode: 'graduated' | 'volume' | null;
  transform_quantity: { divide_by: number; round: 'up' | 'down' } | null;
  type: 'one_time' | 'recurring';
  unit_amount: number | null;
  unit_amount_decimal: string | null;
}

export interface SubscriptionItemObject {
  id: string;
  object: 'subscription_item';
  created: number;
  current_period_end: number;
  current_period_start: number;
  discounts: string[];
  metadata: Record<string, string>;
  price: PriceObject;
  quantity?: number;
  subscription: string;
  tax_rates: unknown[];
}

export interface SubscriptionObject {
  id: string;
  object: 'subscription';
  application: null;
  billing_cycle_anchor: number;
  billing_cycle_anchor_config: null;
  cancel_at: number | null;
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  collection_method: 'charge_automatically';
  created: number;
  currency: string;
  customer: string;
  days_until_due: null;
  default_payment_method: null;
  description: string | null;
  discounts: string[];
  ended_at: number | null;
  items: ListObject<SubscriptionItemObject> & { total_count: number };
  latest_invoice: null;
  livemode: boolean;
  metadata: Record<string, string>;
  start_date: number;
  status: 'active' | 'canceled';
  trial_end: null;
  trial_start: null;
}

export type MeterFormula = 'sum' | 'count' | 'last';

export interface MeterObject {
  id: string;
  object: 'billing.meter';
  created: number;
  customer_mapping: { event_payload_key: string; type: 'by_id' };
  default_aggregation: { formula: MeterFormula };
  display_name: string;
  event_name: string;
  event_time_window: 'day' | 'hour' | null;
  livemode: boolean;
  status: 'active' | 'inactive';
  status_transitions: { deactivated_at: number | null };
  updated: number;
  value_settings: { event_payload_key: string };
}

export interface MeterEventObject {
  object: 'billing.meter_event';
  created: number;
  event_name: string;
  identifier: string;
  livemode: boolean;
  payload: Record<string, string>;
  timestamp: number;
}

export interface MeterEventSummaryObject {
  id: string;
  object: 'billing.meter_event_summary';
  aggregated_value: number;
  end_time: number;
  livemode: boolean;
  meter: string;
  start_time: number;
}

export interface EventObject {
  id: string;
  object: 'event';
  api_version: string | null;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface ListObject<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}
