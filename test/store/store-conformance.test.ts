import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { FEED_START, type BillingEventInput, type TenantRecord } from '../../src/store/store.js';
import { parseConfig } from '../../src/config.js';
import { DIALECTS, dialectEnabled, freshDatabase, type FreshDatabase } from '../support/dialects.js';

/** One suite, run unchanged against SQLite and PostgreSQL. */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`store conformance: ${dialect}`, () => {
    let db: FreshDatabase;
    let store: KyselyStore;

    beforeAll(async () => {
      db = await freshDatabase(dialect);
      store = createStore(parseConfig({ DATABASE_URL: db.databaseUrl, MW_DATA_DIR: db.dataDir }).database);
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    const tenant = (id: string, name = id): TenantRecord => ({
      id,
      name,
      webhookTokenHash: `hash-${id}`,
      webhookTokenEnc: `enc-${id}`,
      webhookSecretsEnc: null,
      stripeApiKeyEnc: null,
      stripeTestApiKeyEnc: null,
      createdAt: 1_000,
      updatedAt: 1_000,
    });

    const event = (tenantId: string, eventId: string, patch: Partial<BillingEventInput> = {}): BillingEventInput => ({
      tenantId,
      eventId,
      type: 'charge.succeeded',
      created: 1_700_000_000,
      livemode: false,
      apiVersion: '2025-08-27.basil',
      account: null,
      objectType: 'charge',
      objectId: `ch_${eventId}`,
      customer: 'cus_1',
      amount: 2000,
      currency: 'usd',
      status: 'succeeded',
      refId: null,
      source: 'webhook',
      receivedAt: 1_700_000_000_123,
      payload: JSON.stringify({ id: eventId }),
      ...patch,
    });

    it('migrates once and reports itself current', async () => {
      expect(await store.migrate()).toEqual([]);
      const status = await store.migrationStatus();
      expect(status.pending).toEqual([]);
      expect(status.applied).toContain('0001-foundation');
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('keeps the first meta value', async () => {
      expect(await store.putMetaIfAbsent('k', 'one')).toBe(true);
      expect(await store.putMetaIfAbsent('k', 'two')).toBe(false);
      expect(await store.getMeta('k')).toBe('one');
      expect(await store.getMeta('missing')).toBeUndefined();
    });

    it('stores tenants, refusing a taken id or name', async () => {
      expect(await store.insertTenant(tenant('ten_a', 'Alpha'))).toBe(true);
      expect(await store.insertTenant(tenant('ten_b', 'Beta'))).toBe(true);
      expect(await store.insertTenant(tenant('ten_a', 'Other'))).toBe(false);
      expect(await store.insertTenant(tenant('ten_c', 'Alpha'))).toBe(false);
      expect((await store.getTenant('ten_a'))?.name).toBe('Alpha');
      expect((await store.getTenantByName('Beta'))?.id).toBe('ten_b');
      expect((await store.getTenantByWebhookTokenHash('hash-ten_b'))?.id).toBe('ten_b');
      expect(await store.getTenant('nope')).toBeUndefined();
      expect((await store.listTenants()).map((t) => t.id)).toEqual(['ten_a', 'ten_b']);

      const updated = await store.updateTenant('ten_a', { webhookSecretsEnc: 'sealed', webhookTokenHash: 'hash-new' }, 2_000);
      expect(updated).toMatchObject({ id: 'ten_a', webhookSecretsEnc: 'sealed', webhookTokenHash: 'hash-new', updatedAt: 2_000, createdAt: 1_000 });
      expect(await store.getTenantByWebhookTokenHash('hash-ten_a')).toBeUndefined();
      expect(await store.updateTenant('nope', { webhookSecretsEnc: null }, 3_000)).toBeUndefined();
    });

    it('stores API keys per tenant and revokes only the tenant’s own live key', async () => {
      await store.insertApiKey({ id: 'key_1', tenantId: 'ten_a', name: 'n', prefix: 'mw_x', keyHash: 'h1', scopes: ['ingest', 'read'], createdAt: 1, revokedAt: null });
      await store.insertApiKey({ id: 'key_2', tenantId: 'ten_b', name: 'n', prefix: 'mw_y', keyHash: 'h2', scopes: ['write'], createdAt: 2, revokedAt: null });
      expect(await store.getApiKeyByHash('h1')).toMatchObject({ id: 'key_1', tenantId: 'ten_a', scopes: ['ingest', 'read'], revokedAt: null });
      expect((await store.listApiKeys('ten_a')).map((k) => k.id)).toEqual(['key_1']);
      expect(await store.revokeApiKey('ten_b', 'key_1', 5)).toBe(false);
      expect(await store.revokeApiKey('ten_a', 'key_1', 5)).toBe(true);
      expect(await store.revokeApiKey('ten_a', 'key_1', 6)).toBe(false);
      expect((await store.getApiKeyByHash('h1'))?.revokedAt).toBe(5);
    });

    it('stores an event once per (tenant, event id) and round-trips every field', async () => {
      const input = event('ten_a', 'evt_1', { livemode: true, account: 'acct_1', amount: 99_999_999_999 });
      expect(await store.insertBillingEvent(input)).toEqual({ inserted: true });
      expect(await store.insertBillingEvent({ ...input, amount: 1 })).toEqual({ inserted: false });
      // The same Stripe id under another tenant is another event.
      expect(await store.insertBillingEvent(event('ten_b', 'evt_1'))).toEqual({ inserted: true });
      const stored = await store.getBillingEvent('ten_a', 'evt_1');
      expect(stored).toMatchObject({ ...input, seq: expect.any(Number), anomalyScore: 0, flagged: false });
      expect(await store.getBillingEvent('ten_a', 'evt_missing')).toBeUndefined();
    });

    it('stores a batch in one write, reporting which events were new', async () => {
      await store.insertBillingEvent(event('ten_a', 'evt_b0'));
      const result = await store.insertBillingEvents([
        event('ten_a', 'evt_b1'),
        event('ten_a', 'evt_b0'), // stored before
        event('ten_b', 'evt_b1'), // same id, other tenant
        event('ten_a', 'evt_b1'), // repeated in the batch
        event('ten_a', 'evt_b2'),
      ]);
      expect(result).toEqual([true, false, true, false, true]);
      expect(await store.insertBillingEvents([])).toEqual([]);
      const [a, b] = await Promise.all([
        store.insertBillingEvents([event('ten_a', 'evt_b3'), event('ten_a', 'evt_b4')]),
        store.insertBillingEvents([event('ten_a', 'evt_b4'), event('ten_a', 'evt_b3')]),
      ]);
      expect([...a!, ...b!].filter(Boolean)).toHaveLength(2);
      await store.maintain();
    });

    it('lets exactly one of many concurrent inserts of one event win', async () => {
      const results = await Promise.all(Array.from({ length: 25 }, () => store.insertBillingEvent(event('ten_a', 'evt_race'))));
      expect(results.filter((r) => r.inserted)).toHaveLength(1);
    });

    it('lists a tenant’s events newest first with filters and a stable cursor', async () => {
      for (let i = 0; i < 7; i++) {
        await store.insertBillingEvent(
          event('ten_b', `evt_l${i}`, { created: 1_800_000_000 + (i % 3), type: i % 2 === 0 ? 'charge.failed' : 'invoice.paid', customer: i < 4 ? 'cus_x' : 'cus_y' }),
        );
      }
      const page1 = await store.listBillingEvents('ten_b', { since: 1_800_000_000, limit: 4 });
      expect(page1).toHaveLength(4);
      const last = page1[3]!;
      const page2 = await store.listBillingEvents('ten_b', { since: 1_800_000_000, limit: 10, before: { created: last.created, seq: last.seq } });
      const all = [...page1, ...page2];
      expect(all.map((e) => e.eventId).sort()).toEqual(['evt_l0', 'evt_l1', 'evt_l2', 'evt_l3', 'evt_l4', 'evt_l5', 'evt_l6']);
      for (let i = 1; i < all.length; i++) {
        const [a, b] = [all[i - 1]!, all[i]!];
        expect(a.created > b.created || (a.created === b.created && a.seq > b.seq)).toBe(true);
      }
      expect((await store.listBillingEvents('ten_b', { types: ['charge.failed'], limit: 50 })).every((e) => e.type === 'charge.failed')).toBe(true);
      expect((await store.listBillingEvents('ten_b', { customer: 'cus_y', since: 1_800_000_000, limit: 50 })).map((e) => e.eventId).sort()).toEqual(['evt_l4', 'evt_l5', 'evt_l6']);
      expect(await store.listBillingEvents('ten_b', { since: 1_800_000_001, until: 1_800_000_002, limit: 50 })).toHaveLength(2);
      // Tenant isolation at the store: ten_a never sees ten_b's rows.
      expect((await store.listBillingEvents('ten_a', { limit: 500 })).every((e) => e.tenantId === 'ten_a')).toBe(true);
    });

    it('finds filtered events whether or not the feed has indexed their keys yet', async () => {
      const ids = ['evt_k1', 'evt_k2', 'evt_k3'];
      for (const [i, id] of ids.entries()) await store.insertBillingEvent(event('ten_b', id, { customer: 'cus_k', created: 1_900_000_000 + i, refId: 'pi_k' }));
      const [k1, k2] = [await store.getBillingEvent('ten_b', 'evt_k1'), await store.getBillingEvent('ten_b', 'evt_k2')];
      const keys = [k1!, k2!].map((e) => ({ tenantId: e.tenantId, seq: e.seq, eventId: e.eventId, type: e.type, created: e.created, customer: e.customer, objectId: e.objectId, refId: e.refId, amount: e.amount, currency: e.currency }));
      expect(await store.detectors.applyAggregation({ consumer: 'keys-test', from: FEED_START, to: { tx: 0, seq: 1 }, keys, buckets: [], refunds: [], subscriptions: [] }, 1)).toBe(true);
      const byCustomer = await store.listBillingEvents('ten_b', { customer: 'cus_k', limit: 10 });
      expect(byCustomer.map((e) => e.eventId)).toEqual(['evt_k3', 'evt_k2', 'evt_k1']);
      expect((await store.listBillingEvents('ten_b', { refId: 'pi_k', types: ['charge.succeeded'], limit: 2 })).map((e) => e.eventId)).toEqual(['evt_k3', 'evt_k2']);
      expect(await store.listBillingEvents('ten_a', { customer: 'cus_k', limit: 10 })).toEqual([]);
      // The detectors' key reads come from event_keys alone: only what the feed indexed, newest first.
      const indexed = await store.detectors.listEventKeys('ten_b', { types: [k1!.type], customers: ['cus_k', 'cus_none'], limit: 10 });
      expect(indexed.map((k) => [k.eventId, k.refId, k.amount, k.currency])).toEqual([
        ['evt_k2', 'pi_k', k2!.amount, k2!.currency],
        ['evt_k1', 'pi_k', k1!.amount, k1!.currency],
      ]);
      expect(await store.detectors.listEventKeys('ten_a', { types: [k1!.type], customers: ['cus_k'], limit: 10 })).toEqual([]);
    });

    it('counts a batch offered twice once, and stores its keys once, whether or not the cursor had moved', async () => {
      await store.insertBillingEvent(event('ten_b', 'evt_twice', { customer: 'cus_twice', created: 1_950_000_000 }));
      const e = (await store.getBillingEvent('ten_b', 'evt_twice'))!;
      const keys = [{ tenantId: e.tenantId, seq: e.seq, eventId: e.eventId, type: e.type, created: e.created, customer: e.customer, objectId: e.objectId, refId: e.refId, amount: e.amount, currency: e.currency }];
      const buckets = [{ tenantId: 'ten_b', metric: 'twice', bucketStart: 1_950_000_000_000, count: 1, amount: 5 }];
      const batch = { consumer: 'twice-test', keys, buckets, refunds: [], subscriptions: [] };
      // Another process moved the cursor first: refused, nothing counted (on SQLite its keys may already be stored).
      await store.saveFeedCursor('twice-test', { tx: 0, seq: 7 }, 1);
      expect(await store.detectors.applyAggregation({ ...batch, from: FEED_START, to: { tx: 0, seq: 9 } }, 1)).toBe(false);
      expect(await store.detectors.sumBuckets('ten_b', 'twice', 0, 2_000_000_000_000)).toEqual({ count: 0, amount: 0 });
      // Offered again from the right position: counted once; offered once more from the old one: refused.
      expect(await store.detectors.applyAggregation({ ...batch, from: { tx: 0, seq: 7 }, to: { tx: 0, seq: 9 } }, 1)).toBe(true);
      expect(await store.detectors.applyAggregation({ ...batch, from: { tx: 0, seq: 7 }, to: { tx: 0, seq: 9 } }, 1)).toBe(false);
      expect(await store.detectors.sumBuckets('ten_b', 'twice', 0, 2_000_000_000_000)).toEqual({ count: 1, amount: 5 });
      const stored = await store.detectors.listEventKeys('ten_b', { types: [e.type], customers: ['cus_twice'], limit: 10 });
      expect(stored.map((k) => k.eventId)).toEqual(['evt_twice']);
    });

    it('feeds every committed event once, in order, from a durable cursor', async () => {
      const first = await store.readFeed(FEED_START, 1000);
      expect(first.events.length).toBeGreaterThan(0);
      const seqs = first.events.map((e) => e.seq);
      expect(new Set(seqs).size).toBe(seqs.length);
      await store.saveFeedCursor('test-consumer', first.position, 10);
      expect(await store.getFeedCursor('test-consumer')).toEqual(first.position);
      expect((await store.readFeed(first.position, 1000)).events).toEqual([]);

      await store.insertBillingEvent(event('ten_a', 'evt_after_cursor'));
      await store.insertBillingEvent(event('ten_a', 'evt_after_cursor')); // a redelivery adds nothing
      const next = await store.readFeed(await store.getFeedCursor('test-consumer'), 1000);
      expect(next.events.map((e) => e.eventId)).toEqual(['evt_after_cursor']);
      expect(await store.getFeedCursor('never-ran')).toEqual(FEED_START);
    });

    it('passes over other types by position when reading the feed for some types only', async () => {
      const start = (await store.readFeed(FEED_START, 100_000)).position;
      const types = ['invoice.created', 'charge.succeeded', 'charge.failed', 'invoice.created', 'customer.created', 'invoice.finalized'];
      for (const [i, type] of types.entries()) await store.insertBillingEvent(event('ten_a', `evt_typed_${i}`, { type }));
      const wanted = ['invoice.created', 'invoice.finalized'];
      const seen: string[] = [];
      let position = start;
      let reads = 0;
      for (;;) {
        const batch = await store.readFeedOfTypes(position, 2, wanted);
        reads += 1;
        if (batch.scanned === 0) {
          expect(batch.position).toEqual(position);
          break;
        }
        expect(batch.scanned).toBeLessThanOrEqual(2);
        expect(batch.events.every((e) => wanted.includes(e.type))).toBe(true);
        expect(batch.positions).toHaveLength(batch.events.length);
        seen.push(...batch.events.map((e) => e.eventId));
        position = batch.position;
      }
      expect(seen).toEqual(['evt_typed_0', 'evt_typed_3', 'evt_typed_5']);
      expect(reads).toBe(4); // three steps of two entries, then the empty read
      expect(position).toEqual((await store.readFeed(FEED_START, 100_000)).position);
    });

    it.skipIf(dialect !== 'postgres')('never jumps over a transaction that commits after a later one', async () => {
      const before = await store.readFeed(FEED_START, 10_000);
      const slow = new pg.Client({ connectionString: db.databaseUrl });
      await slow.connect();
      try {
        await slow.query('begin');
        await slow.query(
          `insert into billing_events (tenant_id, event_id, type, created, livemode, source, received_at, payload)
           values ('ten_a', 'evt_slow', 'charge.succeeded', 1, 0, 'webhook', 1, '{}')`,
        );
        await store.insertBillingEvent(event('ten_a', 'evt_fast'));
        // While the slow transaction is open, the fast row is held back too: reading it now would
        // move the cursor past the slow row's lower sequence number.
        const during = await store.readFeed(before.position, 100);
        expect(during.events.map((e) => e.eventId)).toEqual([]);
        await slow.query('commit');
        const after = await store.readFeed(before.position, 100);
        expect(after.events.map((e) => e.eventId).sort()).toEqual(['evt_fast', 'evt_slow']);
      } finally {
        await slow.end();
      }
    });

    it.skipIf(dialect !== 'postgres')('is not held back by a long transaction in another database of the server', async () => {
      const { ADMIN_URL } = await import('../support/postgres.js');
      const elsewhere = new pg.Client({ connectionString: ADMIN_URL });
      await elsewhere.connect();
      try {
        await elsewhere.query('begin');
        await elsewhere.query('select pg_current_xact_id()'); // holds a transaction id, like a writer
        const before = await store.readFeed(FEED_START, 10_000);
        await store.insertBillingEvent(event('ten_a', 'evt_other_db'));
        const after = await store.readFeed(before.position, 100);
        expect(after.events.map((e) => e.eventId)).toEqual(['evt_other_db']);
      } finally {
        await elsewhere.query('rollback');
        await elsewhere.end();
      }
    });

    it('reports a closed or unreachable database as store_unavailable', async () => {
      const other = createStore(parseConfig({ DATABASE_URL: db.databaseUrl, MW_DATA_DIR: db.dataDir }).database);
      await other.close();
      await expect(other.getTenant('ten_a')).rejects.toMatchObject({ code: 'store_unavailable' });
    });
  });
}
