import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStore } from '../../src/store/create-store.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { INSERT_ONE_EVENT_SQL } from '../../src/store/kysely-store.js';
import { startEventWriterThread } from '../../src/store/sqlite/event-writer-thread.js';
import type { BillingEventInput } from '../../src/store/store.js';
import { parseConfig } from '../../src/config.js';
import { freshDatabase, type FreshDatabase } from '../support/dialects.js';

/** The SQLite webhook writer thread: what the store's conformance suite cannot see from outside. */
describe('sqlite event writer thread', () => {
  let db: FreshDatabase;
  let store: KyselyStore;

  beforeAll(async () => {
    db = await freshDatabase('sqlite');
    store = createStore(parseConfig({ DATABASE_URL: db.databaseUrl, MW_DATA_DIR: db.dataDir }).database);
    await store.migrate();
    await store.insertTenant({ id: 't1', name: 't1', webhookTokenHash: 'h', webhookTokenEnc: 'e', webhookSecretsEnc: null, stripeApiKeyEnc: null, stripeTestApiKeyEnc: null, createdAt: 1, updatedAt: 1 });
  });
  afterAll(async () => {
    await store?.close();
    await db?.cleanup();
  });

  const event = (tenantId: string, eventId: string): BillingEventInput => ({
    tenantId, eventId, type: 'charge.succeeded', created: 1_700_000_000, livemode: false, apiVersion: null, account: null,
    objectType: 'charge', objectId: `ch_${eventId}`, customer: 'cus_1', amount: 100, currency: 'usd', status: 'succeeded',
    refId: null, source: 'webhook', receivedAt: 1_700_000_000_000, payload: JSON.stringify({ id: eventId }),
  });

  it('answers per row, in order: the first occurrence of a key in a batch is the one stored', async () => {
    expect(await store.insertBillingEvents([event('t1', 'evt_a'), event('t1', 'evt_b'), event('t1', 'evt_a')])).toEqual([true, true, false]);
    expect(await store.insertBillingEvents([event('t1', 'evt_b'), event('t1', 'evt_c')])).toEqual([false, true]);
  });

  it('has committed when it answers: another connection sees the rows', async () => {
    const written = store.insertBillingEvents(Array.from({ length: 50 }, (_, i) => event('t1', `evt_seen_${i}`)));
    expect((await written).every(Boolean)).toBe(true);
    const reader = new BetterSqlite3(db.sqliteFile!, { readonly: true });
    try {
      expect((reader.prepare(`select count(*) as n from billing_events where event_id like 'evt_seen_%'`).get() as { n: number }).n).toBe(50);
    } finally {
      reader.close();
    }
  });

  it('fails the whole batch on a database error, writes none of it, and keeps working', async () => {
    // No such tenant: the foreign key refuses the second row, so the first must not stay either.
    await expect(store.insertBillingEvents([event('t1', 'evt_ok_1'), event('nobody', 'evt_x')])).rejects.toThrow();
    expect(await store.insertBillingEvents([event('t1', 'evt_ok_1')])).toEqual([true]);
  });

  it('keeps concurrent batches apart', async () => {
    const batches = Array.from({ length: 20 }, (_, b) => store.insertBillingEvents(Array.from({ length: 10 }, (_, i) => event('t1', `evt_c_${b}_${i}`))));
    const results = await Promise.all(batches);
    expect(results.flat().filter(Boolean)).toHaveLength(200);
  });

  it('refuses work once stopped instead of starting a new thread', async () => {
    const writer = startEventWriterThread({ file: db.sqliteFile!, insertSql: INSERT_ONE_EVENT_SQL, busyTimeoutMs: 1000 });
    await writer.stop();
    await expect(writer.insert([['t1']])).rejects.toThrow(/stopped/);
  });
});
