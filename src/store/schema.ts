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
  };
  feed_cursors: {
    consumer: string;
    tx_id: number;
    seq: number;
    updated_at: number;
  };
}
