import type { Generated } from 'kysely';

/**
 * Table shapes as Kysely sees them. Times are integers (UTC epoch milliseconds, or Stripe's epoch
 * seconds where the column says so) so both databases store and compare them identically.
 * Booleans are 0/1 integers for the same reason.
 */
export interface Database {
  mw_meta: { key: string; value: string };
  tenants: {
    id: string;
    name: string;
    webhook_token_hash: string;
    webhook_token_enc: string;
    webhook_secrets_enc: string | null;
    stripe_api_key_enc: string | null;
    stripe_test_api_key_enc: string | null;
    created_at: number;
    updated_at: number;
  };
  api_keys: {
    id: string;
    tenant_id: string;
    name: string;
    prefix: string;
    key_hash: string;
    scopes: string;
    created_at: number;
    revoked_at: number | null;
  };
  billing_events: {
    seq: Generated<number>;
    tenant_id: string;
    event_id: string;
    type: string;
    created: number;
    livemode: number;
    api_version: string | null;
    account: string | null;
    object_type: string | null;
    object_id: string | null;
    customer: string | null;
    amount: number | null;
    currency: string | null;
    status: string | null;
    source: string;
    received_at: number;
    payload: string;
    tx_id: Generated<number>;
    ref_id: string | null;
    anomaly_score: Generated<number>;
    flagged: Generated<number>;
  };
  detector_buckets: { tenant_id: string; metric: string; bucket_start: number; count: number; amount: number };
  event_keys: { tenant_id: string; seq: number; type: string; created: number; customer: string | null; object_id: string | null; ref_id: string | null };
  refund_facts: { tenant_id: string; refund_id: string; charge_id: string; amount: number; currency: string; status: string; created: number; as_of: number };
  subscription_facts: {
    tenant_id: string;
    subscription_id: string;
    customer: string | null;
    status: string;
    currency: string | null;
    period_start: number | null;
    period_end: number | null;
    cancel_at_period_end: number;
    recurring_amount: number | null;
    quantity: number;
    as_of: number;
  };
  incidents: {
    id: string;
    tenant_id: string;
    detector: string;
    subject_type: string;
    subject_id: string;
    status: string;
    severity: string;
    historical: number;
    summary: string;
    figures: string;
    evidence: string;
    first_triggered_at: number;
    last_triggered_at: number;
    opened_at: number;
    updated_at: number;
    clear_since: number | null;
    acknowledged_at: number | null;
    acknowledged_by: string | null;
    resolved_at: number | null;
    resolution_actor: string | null;
    resolution_reason: string | null;
    active_key: string | null;
  };
  incident_notifications: {
    id: string;
    tenant_id: string;
    incident_id: string;
    detector: string;
    kind: string;
    severity: string;
    dedupe_key: string;
    created_at: number;
  };
  detector_settings: { tenant_id: string; detector: string; enabled: number; config: string; updated_at: number };
  detector_suppressions: { tenant_id: string; detector: string; subject_type: string; subject_id: string; until: number };
  leases: { name: string; holder: string; expires_at: number };
  feed_cursors: {
    consumer: string;
    tx_id: number;
    seq: number;
    updated_at: number;
  };
}
