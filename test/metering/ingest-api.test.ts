import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { startMetering, utc, type MeteringApp } from './metering-harness.js';

/**
 * POST /v1/events/ingest and the ledger queries, on both stores. The frozen clock is 2026-11-20
 * 12:00 UTC; events default to November 2026 (the current UTC month). Every scenario ends with the
 * ledger re-folded and compared with the stored counters and rollups.
 */
const NOV = (d: number, h = 0) => new Date(utc(2026, 11, d, h)).toISOString();

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`usage ingest: ${dialect}`, () => {
    let m: MeteringApp;
    let customer = 0;
    /** A fresh customer per test: tests share one database but never each other's counters. */
    const nextCustomer = () => `cus_${dialect}_${++customer}`;
    const current = async (customerRef: string, metric = 'api_calls') => {
      const res = await m.get(`/v1/usage/current?customerRef=${encodeURIComponent(customerRef)}&metric=${metric}`);
      expect(res.status).toBe(200);
      return res.body.metrics[0] as { sum: string; max: string; last: string; count: number } | undefined;
    };

    beforeAll(async () => {
      m = await startMetering(dialect);
    });
    afterAll(async () => {
      await m?.close();
    });

    it('1: the same event twice without a key is counted once (same request and a later retry)', async () => {
      const c = nextCustomer();
      const event = { metric: 'api_calls', customerRef: c, quantity: 100, ts: NOV(16, 14) };
      const first = await m.ingest([event, event]);
      expect(first.status).toBe(200);
      expect(first.body.results.map((r) => r.status)).toEqual(['accepted', 'duplicate']);
      expect(first.body.results[0]!.idempotencyKey).toBe(first.body.results[1]!.idempotencyKey);
      expect(first.body).toMatchObject({ accepted: 1, duplicates: 1, conflicts: 0, rejected: 0 });
      const retry = await m.ingest([event]);
      expect(retry.body.results).toEqual([{ index: 0, status: 'duplicate', idempotencyKey: first.body.results[0]!.idempotencyKey }]);
      expect(await current(c)).toMatchObject({ sum: '100', count: 1 });
      await m.expectFolds();
    });

    it('2: 2025-01-01T00:00:00Z and 2025-01-01T01:00:00+01:00 derive the same key', async () => {
      const c = nextCustomer();
      const a = await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 1, ts: '2026-11-01T00:00:00Z' }]);
      const b = await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 1, ts: '2026-11-01T01:00:00+01:00' }]);
      const epoch = await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 1, ts: utc(2026, 11, 1) }]);
      expect(a.body.results[0]).toMatchObject({ status: 'accepted' });
      expect(b.body.results[0]).toEqual({ index: 0, status: 'duplicate', idempotencyKey: a.body.results[0]!.idempotencyKey });
      expect(epoch.body.results[0]).toMatchObject({ status: 'duplicate', idempotencyKey: a.body.results[0]!.idempotencyKey });
      expect(await current(c)).toMatchObject({ sum: '1', count: 1 });
      await m.expectFolds();
    });

    it('3: the same explicit key with a different quantity is a conflict, reported and not applied', async () => {
      const c = nextCustomer();
      const first = await m.ingest([{ metric: 'api_calls', customerRef: c, quantity: 5, ts: NOV(3), idempotencyKey: `order-${c}` }]);
      expect(first.body.results[0]).toMatchObject({ status: 'accepted', idempotencyKey: `order-${c}` });
      const again = await m.ingest([
        { metric: 'api_calls', customerRef: c, quantity: 7, ts: NOV(3), idempotencyKey: `order-${c}` },
        { metric: 'api_calls', customerRef: c, quantity: 5, ts: NOV(3), idempotencyKey: `order-${c}` },
      ]);
      expect(again.body.results[0]).toMatchObject({ status: 'conflict', code: 'idempotency_conflict', idempotencyKey: `order-${c}` });
      expect(again.body.results[0]!.reason).toMatch(/different content/);
      expect(again.body.results[1]).toMatchObject({ status: 'duplicate' });
      // Same key twice in ONE batch, different content: the first wins, the second conflicts.
      const inBatch = await m.ingest([
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: NOV(4), idempotencyKey: `pair-${c}` },
        { metric: 'api_calls', customerRef: c, quantity: 2, ts: NOV(4), idempotencyKey: `pair-${c}` },
      ]);
      expect(inBatch.body.results.map((r) => r.status)).toEqual(['accepted', 'conflict']);
      expect(await current(c)).toMatchObject({ sum: '6', count: 2 });
      await m.expectFolds();
    });

    it('3b: keys, references and meta holding quotes, backslashes, commas, braces or NULL are stored exactly; a batch mixing stored and new keys is classified per event', async () => {
      // PostgreSQL receives each batch as array literals built by the store: these are the
      // characters that are special in them.
      const c = `${nextCustomer()} "q" \\ {a,b}`;
      const keys = [`k"${c}"`, `k\\${c}\\`, `{${c},x}`, 'NULL', `NULL ${c}`, ` ${c} `];
      const events = keys.map((idempotencyKey, i) => ({ metric: 'api_calls', customerRef: c, quantity: i + 1, ts: NOV(6, i), idempotencyKey, meta: { note: `"${i}" \\ {}` } }));
      const first = await m.ingest(events.slice(0, 3));
      expect(first.body.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted']);
      const mixed = await m.ingest([events[1]!, events[3]!, { ...events[0]!, quantity: 99 }, events[4]!, events[2]!, events[5]!]);
      expect(mixed.body.results.map((r) => [r.status, r.idempotencyKey])).toEqual([
        ['duplicate', keys[1]],
        ['accepted', keys[3]],
        ['conflict', keys[0]],
        ['accepted', keys[4]],
        ['duplicate', keys[2]],
        ['accepted', keys[5]],
      ]);
      const listed = await m.get(`/v1/events?customerRef=${encodeURIComponent(c)}&limit=100`);
      expect(listed.status).toBe(200);
      const stored = (listed.body.data as { idempotencyKey: string; customerRef: string; quantity: string; meta: { note: string } }[])
        .map((e) => [e.idempotencyKey, e.customerRef, e.quantity, e.meta.note])
        .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
      expect(stored).toEqual(keys.map((k, i) => [k, c, String(i + 1), `"${i}" \\ {}`]).sort((a, b) => (a[0]! < b[0]! ? -1 : 1)));
      expect(await current(c)).toMatchObject({ sum: '21', count: 6 });
      await m.expectFolds();
    });

    it('4: tenant B may use the same key as tenant A; both count, and neither sees the other', async () => {
      const b = await m.createTenant(`tenant-b-${dialect}`);
      const c = nextCustomer();
      const event = { metric: 'api_calls', customerRef: c, quantity: 3, ts: NOV(5), idempotencyKey: 'shared-key-1' };
      expect((await m.ingest([event])).body.results[0]!.status).toBe('accepted');
      expect((await m.ingest([event], { token: b.key })).body.results[0]!.status).toBe('accepted');
      // Derived keys are per tenant too.
      const derived = { metric: 'api_calls', customerRef: c, quantity: 2, ts: NOV(6) };
      expect((await m.ingest([derived])).body.results[0]!.status).toBe('accepted');
      expect((await m.ingest([derived], { token: b.key })).body.results[0]!.status).toBe('accepted');
      expect(await current(c)).toMatchObject({ sum: '5', count: 2 });
      const inB = await m.get(`/v1/usage/current?customerRef=${c}`, b.key);
      expect(inB.body.metrics[0]).toMatchObject({ sum: '5', count: 2 });
      const listedB = await m.get(`/v1/events?customerRef=${c}&limit=100`, b.key);
      expect(listedB.body.data.map((e: { tenantId: string }) => e.tenantId)).toEqual([b.id, b.id]);
      // A key may not name another tenant: 403, nothing stored.
      const other = await m.ingest([{ ...event, tenantId: b.id, idempotencyKey: 'x-1' }]);
      expect(other.status).toBe(403);
      expect((await m.get(`/v1/events?tenantId=${b.id}`)).status).toBe(403);
      const mixed = await m.ingest([{ ...event, idempotencyKey: 'x-2' }, { ...event, tenantId: b.id, idempotencyKey: 'x-3' }]);
      expect(mixed.status).toBe(403);
      expect((await m.get(`/v1/events?customerRef=${c}&limit=100`)).body.data).toHaveLength(2);
      // Naming its own tenant is fine.
      expect((await m.ingest([{ ...event, tenantId: 'default', idempotencyKey: 'x-4' }])).body.results[0]!.status).toBe('accepted');
      await m.expectFolds('default');
      await m.expectFolds(b.id);
    });

    it('7: events spread over the whole month all count (10 + 5 + 1 + 1 = 17); neighbours go to their own periods', async () => {
      const c = nextCustomer();
      // Inside November's lateness window: every November event still counts in November.
      m.app.clock.set(utc(2026, 12, 1, 12));
      try {
        const res = await m.ingest([
          { metric: 'api_calls', customerRef: c, quantity: 10, ts: utc(2026, 11, 1) },
          { metric: 'api_calls', customerRef: c, quantity: 5, ts: '2026-11-15T12:30:00.250Z' },
          { metric: 'api_calls', customerRef: c, quantity: 1, ts: '2026-11-30T23:59:59.999Z' },
          { metric: 'api_calls', customerRef: c, quantity: 1, ts: '2026-11-20T19:04:59+07:00' },
          { metric: 'api_calls', customerRef: c, quantity: 1000, ts: '2026-12-01T00:00:00Z' },
        ]);
        expect(res.body.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted', 'accepted']);
        expect(res.body.results.some((r) => r.late)).toBe(false);
        const nov = await m.get(`/v1/usage/current?customerRef=${c}&metric=api_calls&at=2026-11-15`);
        expect(nov.body.period).toEqual({ start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z', source: 'calendar' });
        expect(nov.body.metrics[0]).toMatchObject({ sum: '17', max: '10', count: 4, last: '1', lastTs: '2026-11-30T23:59:59.999Z' });
        expect(await current(c)).toMatchObject({ sum: '1000', count: 1 });
        const hist = await m.get(`/v1/usage/history?customerRef=${c}&metric=api_calls&from=2026-11-01&to=2026-12-01&bucket=day`);
        expect(hist.status).toBe(200);
        expect(hist.body.buckets).toHaveLength(30);
        const total = hist.body.buckets.reduce((s: number, b: { sum: string }) => s + Number(b.sum), 0);
        expect(total).toBe(17);
        expect(hist.body.buckets[14]).toMatchObject({ start: '2026-11-15T00:00:00.000Z', sum: '5', count: 1 });
        const hours = await m.get(`/v1/usage/history?customerRef=${c}&metric=api_calls&from=2026-11-15T12:00:00Z&to=2026-11-15T14:00:00Z&bucket=hour`);
        expect(hours.body.buckets.map((b: { sum: string }) => b.sum)).toEqual(['5', '0']);
        await m.expectFolds();
      } finally {
        m.app.clock.set(utc(2026, 11, 20, 12));
      }
    });

    it('8: identical batches from 8 parallel connections store each event once', async () => {
      const c = nextCustomer();
      const address = await m.app.server.listen({ port: 0, host: '127.0.0.1' }).catch(() => `http://127.0.0.1:${(m.app.server.server.address() as { port: number }).port}`);
      const events = Array.from({ length: 50 }, (_, i) => ({ metric: 'api_calls', customerRef: c, quantity: i + 1, ts: utc(2026, 11, 10, 0, 0, 0, i) }));
      const keyed = Array.from({ length: 50 }, (_, i) => ({ metric: 'storage', customerRef: c, quantity: 0.5, ts: NOV(11), idempotencyKey: `k-${c}-${i}` }));
      const body = JSON.stringify({ events: [...events, ...keyed] });
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(
          Array.from({ length: 8 }, () =>
            fetch(`${address}/v1/events/ingest`, { method: 'POST', headers: { authorization: `Bearer ${m.key}`, 'content-type': 'application/json', connection: 'close' }, body, signal: AbortSignal.timeout(20_000) }).then(
              async (r) => ({ status: r.status, body: (await r.json()) as { accepted: number; duplicates: number } }),
            ),
          ),
        );
        expect(answers.every((a) => a.status === 200)).toBe(true);
        expect(answers.reduce((s, a) => s + a.body.accepted, 0)).toBe(round === 0 ? 100 : 0);
        expect(answers.reduce((s, a) => s + a.body.duplicates, 0)).toBe(round === 0 ? 700 : 800);
      }
      expect(await current(c)).toMatchObject({ sum: String((50 * 51) / 2), count: 50 });
      expect(await current(c, 'storage')).toMatchObject({ sum: '25', count: 50 });
      const listed = await m.get(`/v1/events?customerRef=${c}&limit=1000`);
      expect(listed.body.data).toHaveLength(100);
      await m.expectFolds();
    });

    it('10: more than 1,000 events → 400 with nothing stored; bad events are rejected by index while the rest are stored', async () => {
      const c = nextCustomer();
      const many = Array.from({ length: 1001 }, (_, i) => ({ metric: 'api_calls', customerRef: c, quantity: 1, ts: utc(2026, 11, 2, 0, 0, 0, i) }));
      const tooMany = await m.ingest(many);
      expect(tooMany.status).toBe(400);
      expect(tooMany.body.error?.code).toBe('validation_failed');
      expect((await m.get(`/v1/events?customerRef=${c}`)).body.data).toEqual([]);

      const now = m.app.clock.now();
      const res = await m.ingest([
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: new Date(now + 3_600_000).toISOString() },
        { metric: 'api_calls', customerRef: c, quantity: '5', ts: NOV(2) },
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: NOV(2), meta: { blob: 'x'.repeat(5000) } },
        { metric: 'api_calls', customerRef: c, quantity: 2, ts: NOV(2), meta: { plan: 'pro', n: 1 } },
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: new Date(now + 299_000).toISOString() },
        { metric: 'api_calls', customerRef: c, quantity: -1, ts: NOV(2) },
        { metric: 'api_calls', customerRef: c, quantity: 0.0000001, ts: NOV(2) },
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: NOV(2), extra: true },
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: '2026-11-02 00:00' },
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: 1794182400 },
        { metric: 'api calls', customerRef: c, quantity: 1, ts: NOV(2) },
        { metric: 'api_calls', customerRef: c, ts: NOV(2) },
        'not an object',
        { metric: 'api_calls', customerRef: c, quantity: 1e13, ts: NOV(2) },
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: NOV(2), meta: [1, 2] },
        { metric: 'api_calls', customerRef: `${c}\u0000x`, quantity: 1, ts: NOV(2) },
        { metric: 'api_calls', customerRef: c, quantity: 1, ts: NOV(2), idempotencyKey: 'ключ' },
      ]);
      expect(res.status).toBe(200);
      const byIndex = res.body.results.map((r) => [r.index, r.status, r.code ?? null]);
      expect(byIndex).toEqual([
        [0, 'rejected', 'ts_in_future'],
        [1, 'rejected', 'invalid_quantity'],
        [2, 'rejected', 'meta_too_large'],
        [3, 'accepted', null],
        [4, 'accepted', null],
        [5, 'rejected', 'invalid_quantity'],
        [6, 'rejected', 'invalid_quantity'],
        [7, 'rejected', 'invalid_event'],
        [8, 'rejected', 'invalid_ts'],
        [9, 'rejected', 'invalid_ts'],
        [10, 'rejected', 'invalid_event'],
        [11, 'rejected', 'invalid_event'],
        [12, 'rejected', 'invalid_event'],
        [13, 'rejected', 'invalid_quantity'],
        [14, 'rejected', 'invalid_event'],
        [15, 'rejected', 'invalid_event'],
        [16, 'rejected', 'invalid_event'],
      ]);
      expect(res.body.results[1]!.reason).toBe('quantity must be a JSON number, not a string');
      expect(res.body.results[7]!.reason).toMatch(/extra/);
      expect(res.body).toMatchObject({ accepted: 2, rejected: 15 });
      expect(await current(c)).toMatchObject({ sum: '3', count: 2 });
      const listed = await m.get(`/v1/events?customerRef=${c}&limit=10`);
      expect(listed.body.data.find((e: { quantity: string }) => e.quantity === '2').meta).toEqual({ plan: 'pro', n: 1 });
      await m.expectFolds();
    });

    it('refuses malformed bodies whole (400, 413, 415), and the Idempotency-Key header outside one-event batches', async () => {
      const c = nextCustomer();
      const raw = (payload: string, contentType = 'application/json', headers: Record<string, string> = {}) =>
        m.app.server.inject({ method: 'POST', url: '/v1/events/ingest', headers: { authorization: `Bearer ${m.key}`, 'content-type': contentType, ...headers }, payload });
      expect((await raw('{"events":')).statusCode).toBe(400);
      expect((await raw('')).statusCode).toBe(400);
      expect((await raw('[]')).statusCode).toBe(400);
      expect((await raw('{"events":[]}')).statusCode).toBe(400);
      expect((await raw('{"events":{}}')).statusCode).toBe(400);
      expect((await raw(JSON.stringify({ events: [{ metric: 'a', customerRef: c, quantity: 1, ts: NOV(1) }], extra: 1 }))).statusCode).toBe(400);
      expect((await raw('events=1', 'application/x-www-form-urlencoded')).statusCode).toBe(415);
      const big = JSON.stringify({ events: [{ metric: 'a', customerRef: c, quantity: 1, ts: NOV(1), meta: { pad: 'x'.repeat(1_100_000) } }] });
      expect((await raw(big)).statusCode).toBe(413);
      // Authentication and scope.
      expect((await m.app.server.inject({ method: 'POST', url: '/v1/events/ingest', payload: { events: [] } })).statusCode).toBe(401);
      const readOnly = await m.send('POST', '/v1/api-keys', { name: 'ro', scopes: ['read'] });
      expect((await m.ingest([{ metric: 'a', customerRef: c, quantity: 1, ts: NOV(1) }], { token: readOnly.body.key })).status).toBe(403);

      const one = { metric: 'api_calls', customerRef: c, quantity: 4, ts: NOV(7) };
      const withHeader = await m.ingest([one], { headers: { 'idempotency-key': `hdr-${c}` } });
      expect(withHeader.body.results[0]).toMatchObject({ status: 'accepted', idempotencyKey: `hdr-${c}` });
      expect((await m.ingest([one, { ...one, quantity: 5 }], { headers: { 'idempotency-key': `hdr2-${c}` } })).status).toBe(400);
      expect((await m.ingest([{ ...one, idempotencyKey: 'other' }], { headers: { 'idempotency-key': `hdr-${c}` } })).status).toBe(400);
      expect((await m.ingest([{ ...one, idempotencyKey: `hdr-${c}` }], { headers: { 'idempotency-key': `hdr-${c}` } })).body.results[0]!.status).toBe('duplicate');
      expect((await m.get(`/v1/events?customerRef=${c}`)).body.data).toHaveLength(1);
      await m.expectFolds();
    });

    it('keeps quantities exact: decimals sum exactly, numbers beyond a double keep every digit', async () => {
      const c = nextCustomer();
      const body = `{"events":[
        {"metric":"gb","customerRef":"${c}","quantity":0.1,"ts":"${NOV(8)}"},
        {"metric":"gb","customerRef":"${c}","quantity":0.2,"ts":"${NOV(8, 1)}"},
        {"metric":"gb","customerRef":"${c}","quantity":123456789012.345678,"ts":"${NOV(8, 2)}","meta":{"exact":12345678901234567890}},
        {"metric":"gb","customerRef":"${c}","quantity":0.10000000000000001,"ts":"${NOV(8, 3)}"}
      ]}`;
      const res = await m.app.server.inject({ method: 'POST', url: '/v1/events/ingest', headers: { authorization: `Bearer ${m.key}`, 'content-type': 'application/json' }, payload: body });
      const parsed = res.json() as { results: { status: string; code?: string }[] };
      expect(parsed.results.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'rejected']);
      expect(await current(c, 'gb')).toMatchObject({ sum: '123456789012.645678', max: '123456789012.345678', count: 3 });
      const listed = await m.app.server.inject({ method: 'GET', url: `/v1/events?customerRef=${c}&limit=10`, headers: { authorization: `Bearer ${m.key}` } });
      expect(listed.body).toContain('"meta":{"exact":12345678901234567890}');
      expect(listed.json().data.map((e: { quantity: string }) => e.quantity)).toEqual(['123456789012.345678', '0.2', '0.1']);
      await m.expectFolds();
    });

    it('last is the value of the latest event time, whatever the arrival order; ties go to the larger key', async () => {
      const c = nextCustomer();
      await m.ingest([{ metric: 'seats', customerRef: c, quantity: 7, ts: NOV(12) }]);
      await m.ingest([{ metric: 'seats', customerRef: c, quantity: 9, ts: NOV(10) }]);
      expect(await current(c, 'seats')).toMatchObject({ sum: '16', max: '9', last: '7', count: 2 });
      await m.ingest([
        { metric: 'seats', customerRef: c, quantity: 3, ts: NOV(13), idempotencyKey: 'tie-b' },
        { metric: 'seats', customerRef: c, quantity: 4, ts: NOV(13), idempotencyKey: 'tie-a' },
      ]);
      expect(await current(c, 'seats')).toMatchObject({ last: '3', count: 4 });
      await m.expectFolds();
    });

    it('lists events newest first with filters and a cursor; usage/current by metric', async () => {
      const c = nextCustomer();
      const events = Array.from({ length: 25 }, (_, i) => ({ metric: i % 2 === 0 ? 'api_calls' : 'storage', customerRef: c, quantity: i, ts: utc(2026, 11, 14, 0, i) }));
      expect((await m.ingest(events)).body.accepted).toBe(25);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < 10; page++) {
        const res: { status: number; body: { data: { ts: string; metric: string; quantity: string }[]; nextCursor: string | null } } = await m.get(
          `/v1/events?customerRef=${c}&limit=10${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.status).toBe(200);
        seen.push(...res.body.data.map((e) => e.quantity));
        cursor = res.body.nextCursor;
        if (!cursor) break;
      }
      expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => String(24 - i)));
      const storage = await m.get(`/v1/events?customerRef=${c}&metric=storage&since=2026-11-14T00:10:00Z&until=2026-11-14T00:20:00Z`);
      expect(storage.body.data.map((e: { quantity: string }) => e.quantity)).toEqual(['19', '17', '15', '13', '11']);
      expect((await m.get('/v1/events?tenantId=default&limit=10')).body.data).toHaveLength(10);
      for (const bad of ['limit=0', 'limit=1001', 'since=yesterday', 'cursor=zz', 'nope=1']) {
        expect((await m.get(`/v1/events?${bad}`)).status, bad).toBe(400);
      }
      const all = await m.get(`/v1/usage/current?customerRef=${c}`);
      expect(all.body).toMatchObject({ customerRef: c, period: { start: '2026-11-01T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z', source: 'calendar' } });
      expect(all.body.metrics.map((x: { metric: string; sum: string }) => [x.metric, x.sum])).toEqual([
        ['api_calls', '156'],
        ['storage', '144'],
      ]);
      await m.expectFolds();
    });

    it('exposes ingest metrics', async () => {
      const res = await m.app.server.inject({ method: 'GET', url: '/metrics' });
      expect(res.body).toMatch(/mw_usage_events_total\{outcome="accepted",source="api",tenant="default"\} \d+/);
      expect(res.body).toMatch(/mw_usage_commit_events_count \d+/);
    });
  });
}
