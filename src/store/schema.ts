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
  detector_metrics: { tenant_id: string; metric: string };
  event_keys: {
    tenant_id: string;
    seq: number;
    type: string;
    created: number;
    customer: string | null;
    object_id: string | null;
    ref_id: string | null;
    /** Since 0009 (backfilled): the detectors' key reads need no billing_events row. */
    event_id: string | null;
    amount: number | null;
    currency: string | null;
  };
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
    /** When the alerts fan-out turned this into deliveries (0003-alerts); null while pending. */
    fanned_out_at: number | null;
  };
  detector_settings: { tenant_id: string; detector: string; enabled: number; config: string; updated_at: number };
  detector_suppressions: { tenant_id: string; detector: string; subject_type: string; subject_id: string; until: number };
  leases: { name: string; holder: string; expires_at: number };
  alert_channels: {
    id: string;
    tenant_id: string;
    type: string;
    name: string;
    /** Encrypted JSON of the target (URL, addresses, routing key, signing secrets). */
    config_enc: string;
    min_severity: string;
    /** JSON array of detector names, or null for every detector. */
    detectors: string | null;
    send_resolved: number;
    send_digests: number;
    enabled: number;
    disabled_reason: string | null;
    consecutive_failures: number;
    failing_since: number | null;
    blocked_until: number | null;
    last_success_at: number | null;
    last_failure_at: number | null;
    last_error: string | null;
    created_at: number;
    updated_at: number;
  };
  alert_deliveries: {
    id: string;
    tenant_id: string;
    channel_id: string;
    source_key: string;
    kind: string;
    incident_id: string | null;
    message: string;
    status: string;
    attempts: number;
    next_attempt_at: number;
    lease_token: string | null;
    expires_at: number;
    last_error: string | null;
    last_status_code: number | null;
    created_at: number;
    updated_at: number;
    delivered_at: number | null;
  };
  alert_digest_settings: { tenant_id: string; frequency: string; hour: number; weekday: number; time_zone: string; skip_empty: number; updated_at: number };
  alert_digests: { id: string; tenant_id: string; frequency: string; period_start: number; period_end: number; outcome: string; created_at: number };
  /**
   * Metering (0004-metering). `*_micro` columns are 64-bit integer micro-units (quantity × 10^6):
   * always read through `cast(… as text)` and BigInt, never as JS numbers (they exceed 2^53).
   */
  usage_events: {
    tenant_id: string;
    ts: number;
    idem_key: string;
    metric: string;
    customer_ref: string;
    resource_id: string | null;
    quantity_micro: string;
    content_hash: string;
    period_start: number;
    period_end: number;
    late: number;
    source: string;
    received_at: number;
    meta: string | null;
  };
  usage_counters: {
    tenant_id: string;
    period_start: number;
    metric: string;
    customer_ref: string;
    period_end: number;
    sum_micro: string;
    max_micro: string | null;
    last_micro: string | null;
    last_ts: number | null;
    last_key: string | null;
    event_count: number;
    updated_at: number;
  };
  usage_rollups: {
    tenant_id: string;
    hour_start: number;
    metric: string;
    customer_ref: string;
    sum_micro: string;
    event_count: number;
    late_sum_micro: string;
    late_count: number;
  };
  usage_adjustments: {
    id: string;
    tenant_id: string;
    metric: string;
    customer_ref: string;
    period_start: number;
    period_end: number;
    kind: string;
    status: string;
    delta_micro: string;
    event_key: string | null;
    event_ts: number | null;
    parent_id: string | null;
    reverted_by: string | null;
    reason: string | null;
    created_at: number;
    created_by: string;
    decided_at: number | null;
    decided_by: string | null;
    decision_reason: string | null;
  };
  metering_customers: {
    tenant_id: string;
    customer_ref: string;
    stripe_customer_id: string | null;
    /** 0006-sync: the same customer in the test-mode account (shadow pushes). */
    stripe_test_customer_id: string | null;
    billing_anchor: number | null;
    timezone: string | null;
    created_at: number;
    updated_at: number;
  };
  usage_imports: {
    id: string;
    tenant_id: string;
    status: string;
    format: string;
    source_name: string | null;
    records: number;
    accepted: number;
    duplicates: number;
    conflicts: number;
    rejected: number;
    late: number;
    bytes_read: number;
    reasons: string;
    error: string | null;
    created_by: string;
    started_at: number;
    updated_at: number;
    finished_at: number | null;
  };
  /** Price plans (0005-pricing): `customer_ref = ''` is the tenant's default plan. */
  metric_prices: {
    tenant_id: string;
    customer_ref: string;
    metric: string;
    aggregation: string;
    currency: string;
    price_config: string;
    source: string;
    stripe_price_id: string | null;
    created_at: number;
    updated_at: number;
    updated_by: string;
  };
  reconciliation_runs: {
    id: string;
    tenant_id: string;
    trigger: string;
    status: string;
    checked: number;
    drifted: number;
    failed: number;
    error: string | null;
    started_at: number;
    finished_at: number | null;
  };
  reconciliation_results: {
    tenant_id: string;
    mapping_id: string;
    customer_ref: string;
    period_start: number;
    period_end: number;
    metric: string;
    aggregation: string;
    meter_id: string | null;
    stripe_customer_id: string;
    local_micro: string;
    stripe_micro: string | null;
    drift_ppm: number | null;
    status: string;
    error: string | null;
    run_id: string;
    checked_at: number;
  };
  reconciliation_corrections: {
    id: string;
    tenant_id: string;
    mapping_id: string;
    customer_ref: string;
    period_start: number;
    period_end: number;
    stripe_customer_id: string;
    local_micro: string;
    stripe_micro: string;
    delta_micro: string;
    action: string;
    status: string;
    open_key: string | null;
    seen_runs: number;
    created_at: number;
    updated_at: number;
    decided_at: number | null;
    decided_by: string | null;
    decision_reason: string | null;
  };
  invoice_parity_checks: {
    tenant_id: string;
    invoice_id: string;
    line_id: string;
    event_id: string;
    customer_ref: string | null;
    stripe_customer_id: string;
    mapping_id: string | null;
    metric: string | null;
    price_id: string | null;
    period_start: number;
    period_end: number;
    invoice_micro: string;
    local_micro: string | null;
    drift_ppm: number | null;
    status: string;
    detail: string | null;
    checked_at: number;
  };
  /** Stripe sync (0006-sync). `*_micro` columns as in metering: read through `cast(… as text)`. */
  sync_mappings: {
    id: string;
    tenant_id: string;
    metric: string;
    aggregation: string;
    meter_event_name: string;
    meter_id: string | null;
    value_key: string;
    customer_key: string;
    shadow_enabled: number;
    shadow_event_name: string | null;
    shadow_meter_id: string | null;
    enabled: number;
    created_at: number;
    updated_at: number;
  };
  sync_push_state: {
    id: string;
    tenant_id: string;
    mapping_id: string;
    mode: string;
    event_name: string;
    customer_ref: string;
    period_start: number;
    stripe_customer_id: string;
    period_end: number;
    target_micro: string | null;
    accepted_micro: string | null;
    seq: number;
    pending_kind: string | null;
    pending_identifier: string | null;
    pending_value_micro: string | null;
    pending_total_micro: string | null;
    pending_ts: number | null;
    pending_since: number | null;
    pending_uncertain: number;
    status: string;
    due: number;
    next_attempt_at: number;
    claim_token: string | null;
    claimed_until: number | null;
    dirty_since: number | null;
    last_pushed_at: number | null;
    last_error: string | null;
    consecutive_failures: number;
    attempts: number;
    created_at: number;
    updated_at: number;
  };
  sync_push_events: {
    tenant_id: string;
    mode: string;
    identifier: string;
    state_id: string;
    mapping_id: string;
    customer_ref: string;
    period_start: number;
    event_name: string;
    stripe_customer_id: string;
    value_micro: string;
    total_micro: string;
    ts: number;
    first_sent_at: number;
    accepted_at: number | null;
    cancelled_at: number | null;
    cancel_refused_at: number | null;
  };
  sync_call_stats: { tenant_id: string; mode: string; calls: number; operations: number; updated_at: number };
  feed_cursors: {
    consumer: string;
    tx_id: number;
    seq: number;
    updated_at: number;
  };
  /** Durable background jobs (0007-jobs); `params`, `progress` and `cursor` are JSON text. */
  jobs: {
    id: string;
    tenant_id: string;
    kind: string;
    status: string;
    params: string;
    progress: string;
    cursor: string | null;
    error: string | null;
    active_key: string | null;
    lease_owner: string | null;
    lease_expires_at: number | null;
    attempts: number;
    run_after: number;
    created_by: string;
    created_at: number;
    updated_at: number;
    started_at: number | null;
    finished_at: number | null;
  };
}
