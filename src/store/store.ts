/**
 * The one persistence interface. Domain services depend on this, never on a database driver;
 * `sqlite/` and `postgres/` provide it, and `test/store/store-conformance.test.ts` holds both to the
 * same behaviour. Every tenant-owned read or write takes the tenant id explicitly.
 */
import type { DetectorStore } from './detector-store.js';
import type { AlertStore } from './alert-store.js';
import type { MeteringStore } from './metering-store.js';
import type { PricingStore } from './pricing-store.js';
import type { JobStore } from './job-store.js';
import type { ReconciliationStore } from './reconciliation-store.js';
import type { SyncStore } from './sync-store.js';

export type StoreDialect = 'sqlite' | 'postgres';

export type Scope = 'ingest' | 'read' | 'write';
export const ALL_SCOPES: readonly Scope[] = ['ingest', 'read', 'write'];

export interface TenantRecord {
  id: string;
  name: string;
  webhookTokenHash: string;
  webhookTokenEnc: string;
  webhookSecretsEnc: string | null;
  stripeApiKeyEnc: string | null;
  stripeTestApiKeyEnc: string | null;
  createdAt: number;
  updatedAt: number;
}

export type TenantPatch = Partial<
  Pick<TenantRecord, 'webhookTokenHash' | 'webhookTokenEnc' | 'webhookSecretsEnc' | 'stripeApiKeyEnc' | 'stripeTestApiKeyEnc'>
>;

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  keyHash: string;
  scopes: Scope[];
  createdAt: number;
  revokedAt: number | null;
}

export type EventSource = 'webhook' | 'backfill';

export interface BillingEventInput {
  tenantId: string;
  eventId: string;
  type: string;
  /** Stripe's `created`, epoch seconds. */
  created: number;
  livemode: boolean;
  apiVersion: string | null;
  account: string | null;
  objectType: string | null;
  objectId: string | null;
  customer: string | null;
  /** Integer minor units of `currency`. */
  amount: number | null;
  currency: string | null;
  status: string | null;
  /** The related object: refund/dispute/fraud warning → charge, invoice → subscription, charge → payment intent. */
  refId: string | null;
  source: EventSource;
  /** Epoch milliseconds. */
  receivedAt: number;
  /** The raw JSON exactly as signed. */
  payload: string;
}

export interface BillingEventRecord extends BillingEventInput {
  seq: number;
  /** 0–100, set by the detectors on events that are evidence of an incident. */
  anomalyScore: number;
  flagged: boolean;
}

export interface BillingEventQuery {
  types?: string[];
  customer?: string;
  refId?: string;
  objectId?: string;
  /** Exact amount (minor units) and currency: a duplicate-charge lookup reads only its candidates. */
  amount?: number;
  currency?: string;
  flagged?: boolean;
  /**
   * Only events whose keys the feed has indexed. Detectors read this way: everything up to their
   * own batch is indexed, and what lies beyond it is not theirs to see yet.
   */
  indexedOnly?: boolean;
  /** Inclusive lower bound on `created`, epoch seconds. */
  since?: number;
  /** Exclusive upper bound on `created`, epoch seconds. */
  until?: number;
  /** Continue after this (created, seq), newest first. */
  before?: { created: number; seq: number };
  limit: number;
}

export type BillingEventKey = Omit<BillingEventRecord, 'payload'>;

/** A position in the global event feed; `tx` is 0 on SQLite, whose single writer commits in seq order. */
export interface FeedPosition {
  tx: number;
  seq: number;
}

export const FEED_START: FeedPosition = { tx: 0, seq: 0 };

export interface FeedBatch {
  events: BillingEventRecord[];
  /** The feed position of each event, aligned with `events`. */
  positions: FeedPosition[];
  /** Where the next read continues; equals the input when nothing was read. */
  position: FeedPosition;
  /**
   * Feed entries passed over, matching or not: with a type filter `events` can be empty while the
   * feed moved on, so "nothing left" is `scanned === 0`.
   */
  scanned: number;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
}

export interface Store {
  readonly dialect: StoreDialect;
  readonly detectors: DetectorStore;
  readonly alerts: AlertStore;
  readonly metering: MeteringStore;
  readonly pricing: PricingStore;
  readonly jobs: JobStore;
  readonly reconciliation: ReconciliationStore;
  readonly sync: SyncStore;
  /** Apply pending migrations; returns the names applied now. */
  migrate(): Promise<string[]>;
  migrationStatus(): Promise<MigrationStatus>;
  /** Cheap round trip proving the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;

  getMeta(key: string): Promise<string | undefined>;
  /** Insert unless present; true when this call wrote it (first writer wins across replicas). */
  putMetaIfAbsent(key: string, value: string): Promise<boolean>;

  /** False when the id or name is taken. */
  insertTenant(tenant: TenantRecord): Promise<boolean>;
  getTenant(id: string): Promise<TenantRecord | undefined>;
  getTenantByName(name: string): Promise<TenantRecord | undefined>;
  getTenantByWebhookTokenHash(hash: string): Promise<TenantRecord | undefined>;
  listTenants(): Promise<TenantRecord[]>;
  updateTenant(id: string, patch: TenantPatch, now: number): Promise<TenantRecord | undefined>;

  insertApiKey(key: ApiKeyRecord): Promise<void>;
  getApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(tenantId: string): Promise<ApiKeyRecord[]>;
  /** True when a live key of this tenant was revoked now. */
  revokeApiKey(tenantId: string, id: string, now: number): Promise<boolean>;

  /**
   * Stores a batch in one durable write; result i is true when events[i] was stored now (false for a
   * (tenant, event id) already there, or repeated earlier in the batch).
   */
  insertBillingEvents(events: BillingEventInput[]): Promise<boolean[]>;
  /** Periodic upkeep of planner statistics. */
  maintain(): Promise<void>;
  /** Stores the event unless (tenant, event id) exists; durable when the promise resolves. */
  insertBillingEvent(event: BillingEventInput): Promise<{ inserted: boolean }>;
  getBillingEvent(tenantId: string, eventId: string): Promise<BillingEventRecord | undefined>;
  listBillingEvents(tenantId: string, query: BillingEventQuery): Promise<BillingEventRecord[]>;
  /**
   * The same indexed lookup without the raw JSON: for detectors that count or group events by their
   * stored key fields, so a burst of hundreds of events costs no payload reads or JSON parsing.
   */
  listBillingEventKeys(tenantId: string, query: BillingEventQuery & { types: string[] }): Promise<BillingEventKey[]>;

  /** Committed events after `position` in commit-safe order, across all tenants. */
  readFeed(after: FeedPosition, limit: number): Promise<FeedBatch>;
  /**
   * The next `limit` feed entries, returning in full only those of the given types: a consumer
   * that cares about a few types (invoice parity) skips the rest without reading their payloads.
   */
  readFeedOfTypes(after: FeedPosition, limit: number, types: readonly string[]): Promise<FeedBatch>;
  getFeedCursor(consumer: string): Promise<FeedPosition>;
  saveFeedCursor(consumer: string, position: FeedPosition, now: number): Promise<void>;
}
