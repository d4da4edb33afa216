import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, freshDatabase } from '../support/dialects.js';
import { ADMIN_TOKEN, DEFAULT_SECRET, startTestApp } from '../support/test-app.js';
import { useTestApp } from '../support/use-test-app.js';
import { chargeSucceeded, fixture, signPayload, stripeEvent } from '../support/stripe-events.js';
import { FeedConsumer } from '../../src/jobs/feed-consumer.js';
import type { BillingEventRecord } from '../../src/store/store.js';

const TENANT_SECRET = 'whsec_tenant_b_0123456789abcdefghij';
const TENANT_SECRET_NEXT = 'whsec_tenant_b_next_0123456789abcdef';

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`webhook intake: ${dialect}`, () => {
    const app = useTestApp(dialect);
    let tenantB: { id: string; webhookUrl: string; webhookToken: string; apiKey: string };
    let defaultKey: string;

    const nowSeconds = () => Math.floor(app.clock.now() / 1000);

    const deliver = (url: string, payload: string, signature: string | undefined, extraHeaders: Record<string, string> = {}) =>
      app.server.inject({
        method: 'POST',
        url,
        payload,
        headers: { 'content-type': 'application/json; charset=utf-8', ...(signature !== undefined ? { 'stripe-signature': signature } : {}), ...extraHeaders },
      });

    const signed = (event: Record<string, unknown>, secret = DEFAULT_SECRET, at = nowSeconds()) => {
      const payload = JSON.stringify(event);
      return { payload, signature: signPayload(payload, secret, at) };
    };

    const storedCount = async (tenantId: string) => (await app.services.store.listBillingEvents(tenantId, { limit: 10_000 })).length;

    beforeAll(async () => {
      expect(app.firstStart).toBeDefined();
      defaultKey = app.firstStart!.apiKey;
      const created = await app.server.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { name: 'tenant-b', stripeWebhookSecret: TENANT_SECRET },
      });
      expect(created.statusCode).toBe(201);
      tenantB = created.json();
      expect(tenantB.webhookUrl).toBe(`https://mw.example.test/webhook/${tenantB.webhookToken}`);
    });

    it('stores a valid delivery with its envelope and key fields, durably, before the 200', async () => {
      const event = chargeSucceeded(nowSeconds() - 30, { amount: 4242, currency: 'EUR', customer: 'cus_valid' }, 'evt_valid_1');
      const { payload, signature } = signed(event);
      const res = await deliver('/webhooks/stripe', payload, signature);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ received: true, duplicate: false });
      expect(res.headers['x-request-id']).toBeTruthy();
      const stored = await app.services.store.getBillingEvent('default', 'evt_valid_1');
      expect(stored).toMatchObject({
        type: 'charge.succeeded',
        created: nowSeconds() - 30,
        livemode: false,
        apiVersion: event.api_version,
        objectType: 'charge',
        customer: 'cus_valid',
        amount: 4242,
        currency: 'eur',
        status: 'succeeded',
        source: 'webhook',
        receivedAt: app.clock.now(),
        payload,
      });
    });

    it('extracts invoice, refund, dispute and subscription fields from Stripe’s own fixtures', async () => {
      const at = nowSeconds();
      const invoice = { ...fixture('invoice'), id: 'in_fx', customer: 'cus_inv', status: 'paid', amount_paid: 1500, amount_due: 1500, currency: 'usd' };
      const refund = { ...fixture('refund'), id: 're_fx', amount: 300, currency: 'gbp', status: 'succeeded' };
      const dispute = { ...fixture('dispute'), id: 'dp_fx', amount: 999, currency: 'usd' };
      const subscription = { ...fixture('subscription'), id: 'sub_fx', customer: { id: 'cus_expanded', object: 'customer' }, status: 'canceled' };
      const cases = [
        { event: stripeEvent('invoice.paid', invoice, { created: at, id: 'evt_fx_inv' }), expect: { objectId: 'in_fx', customer: 'cus_inv', amount: 1500, status: 'paid' } },
        { event: stripeEvent('charge.refund.updated', refund, { created: at, id: 'evt_fx_re' }), expect: { objectType: 'refund', amount: 300, currency: 'gbp' } },
        { event: stripeEvent('charge.dispute.created', dispute, { created: at, id: 'evt_fx_dp' }), expect: { objectType: 'dispute', amount: 999 } },
        { event: stripeEvent('customer.subscription.deleted', subscription, { created: at, id: 'evt_fx_sub', account: 'acct_123' }), expect: { customer: 'cus_expanded', status: 'canceled', account: 'acct_123', amount: null } },
      ];
      for (const c of cases) {
        const { payload, signature } = signed(c.event);
        expect((await deliver('/webhooks/stripe', payload, signature)).statusCode).toBe(200);
        expect(await app.services.store.getBillingEvent('default', String(c.event.id))).toMatchObject(c.expect);
      }
    });

    it('acknowledges a redelivery with duplicate:true and stores nothing new', async () => {
      const { payload, signature } = signed(chargeSucceeded(nowSeconds(), {}, 'evt_dup_seq'));
      expect((await deliver('/webhooks/stripe', payload, signature)).json()).toEqual({ received: true, duplicate: false });
      const before = await storedCount('default');
      // Stripe re-signs a redelivery with a new timestamp.
      app.clock.advance(60_000);
      const again = signed(JSON.parse(payload));
      const res = await deliver('/webhooks/stripe', again.payload, again.signature);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ received: true, duplicate: true });
      expect(await storedCount('default')).toBe(before);
    });

    it('stores one copy when the same event arrives concurrently', async () => {
      const { payload, signature } = signed(chargeSucceeded(nowSeconds(), {}, 'evt_dup_concurrent'));
      const before = await storedCount('default');
      const results = await Promise.all(Array.from({ length: 20 }, () => deliver('/webhooks/stripe', payload, signature)));
      expect(results.every((r) => r.statusCode === 200)).toBe(true);
      expect(results.filter((r) => r.json().duplicate === false)).toHaveLength(1);
      expect(await storedCount('default')).toBe(before + 1);
    });

    it('feeds downstream consumers each event once; redeliveries add nothing', async () => {
      const seen: BillingEventRecord[] = [];
      const consumer = new FeedConsumer(app.services.store, app.clock, 'test-downstream', async (events) => {
        seen.push(...events);
      }, 7);
      await consumer.run(1000);
      const total = seen.length;
      expect(total).toBe((await storedCount('default')) + (await storedCount(tenantB.id)));
      const { payload, signature } = signed(chargeSucceeded(nowSeconds(), {}, 'evt_feed_new'));
      await deliver('/webhooks/stripe', payload, signature);
      await deliver('/webhooks/stripe', payload, signature);
      // A fresh consumer object, as after a restart: the cursor is in the database.
      const restarted = new FeedConsumer(app.services.store, app.clock, 'test-downstream', async (events) => {
        seen.push(...events);
      });
      expect(await restarted.run()).toBe(1);
      expect(seen.slice(total).map((e) => e.eventId)).toEqual(['evt_feed_new']);
      expect(new Set(seen.map((e) => e.seq)).size).toBe(seen.length);
    });

    const rejections: { name: string; make: () => { url: string; payload: string; signature?: string }; status: number; code: string }[] = [
      {
        name: 'wrong secret',
        make: () => ({ url: '/webhooks/stripe', ...signed(chargeSucceeded(nowSeconds()), 'whsec_wrong_0123456789abcdef') }),
        status: 400,
        code: 'signature_invalid',
      },
      {
        name: 'another tenant’s secret on the default URL',
        make: () => ({ url: '/webhooks/stripe', ...signed(chargeSucceeded(nowSeconds()), TENANT_SECRET) }),
        status: 400,
        code: 'signature_invalid',
      },
      {
        name: 'the default secret on a tenant URL',
        make: () => ({ url: `/webhook/${tenantB.webhookToken}`, ...signed(chargeSucceeded(nowSeconds()), DEFAULT_SECRET) }),
        status: 400,
        code: 'signature_invalid',
      },
      {
        name: 'stale timestamp (301 s old)',
        make: () => ({ url: '/webhooks/stripe', ...signed(chargeSucceeded(nowSeconds()), DEFAULT_SECRET, nowSeconds() - 301) }),
        status: 400,
        code: 'signature_invalid',
      },
      {
        name: 'future-dated timestamp (301 s ahead)',
        make: () => ({ url: '/webhooks/stripe', ...signed(chargeSucceeded(nowSeconds()), DEFAULT_SECRET, nowSeconds() + 301) }),
        status: 400,
        code: 'signature_invalid',
      },
      {
        name: 'missing Stripe-Signature header',
        make: () => ({ url: '/webhooks/stripe', payload: JSON.stringify(chargeSucceeded(nowSeconds())) }),
        status: 400,
        code: 'signature_invalid',
      },
      {
        name: 'malformed Stripe-Signature header',
        make: () => ({ url: '/webhooks/stripe', payload: JSON.stringify(chargeSucceeded(nowSeconds())), signature: 'garbage' }),
        status: 400,
        code: 'signature_invalid',
      },
      {
        name: 'body altered after signing',
        make: () => {
          const s = signed(chargeSucceeded(nowSeconds(), { amount: 100 }));
          return { url: '/webhooks/stripe', payload: s.payload.replace('"amount":100', '"amount":1'), signature: s.signature };
        },
        status: 400,
        code: 'signature_invalid',
      },
      {
        name: 'signed malformed JSON',
        make: () => {
          const payload = '{"id":"evt_x","object":"event",';
          return { url: '/webhooks/stripe', payload, signature: signPayload(payload, DEFAULT_SECRET, nowSeconds()) };
        },
        status: 400,
        code: 'invalid_event',
      },
      {
        name: 'signed JSON that is not an event',
        make: () => {
          const payload = JSON.stringify({ id: 'ch_1', object: 'charge' });
          return { url: '/webhooks/stripe', payload, signature: signPayload(payload, DEFAULT_SECRET, nowSeconds()) };
        },
        status: 400,
        code: 'invalid_event',
      },
      {
        name: 'unknown tenant token',
        make: () => ({ url: '/webhook/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', ...signed(chargeSucceeded(nowSeconds())) }),
        status: 404,
        code: 'not_found',
      },
      {
        name: 'token with characters no token has',
        make: () => ({ url: `/webhook/${encodeURIComponent('../../etc/passwd')}`, ...signed(chargeSucceeded(nowSeconds())) }),
        status: 404,
        code: 'not_found',
      },
      {
        name: 'body over 1 MiB',
        make: () => ({ url: '/webhooks/stripe', ...signed(chargeSucceeded(nowSeconds(), { description: 'x'.repeat(1_100_000) })) }),
        status: 413,
        code: 'payload_too_large',
      },
    ];

    for (const r of rejections) {
      it(`refuses ${r.name} with ${r.status} ${r.code}, writing nothing`, async () => {
        const before = (await storedCount('default')) + (await storedCount(tenantB.id));
        const req = r.make();
        const res = await deliver(req.url, req.payload, req.signature);
        expect(res.statusCode).toBe(r.status);
        const body = res.json();
        expect(body.error.code).toBe(r.code);
        expect(body.error.requestId).toBe(res.headers['x-request-id']);
        expect(body.error.message).not.toMatch(/at .*\.(js|ts):\d+|Stripe-Signature:|whsec_/);
        expect((await storedCount('default')) + (await storedCount(tenantB.id))).toBe(before);
      });
    }

    it('accepts a tenant’s own secret on its URL, and both secrets during a rotation', async () => {
      const url = `/webhook/${tenantB.webhookToken}`;
      const first = signed(chargeSucceeded(nowSeconds(), {}, 'evt_b_1'), TENANT_SECRET);
      expect((await deliver(url, first.payload, first.signature)).statusCode).toBe(200);
      expect(await app.services.store.getBillingEvent(tenantB.id, 'evt_b_1')).toBeDefined();
      expect(await app.services.store.getBillingEvent('default', 'evt_b_1')).toBeUndefined();

      const put = await app.server.inject({
        method: 'PUT',
        url: `/v1/tenants/${tenantB.id}/stripe`,
        headers: { authorization: `Bearer ${tenantB.apiKey}` },
        payload: { webhookSecret: TENANT_SECRET_NEXT },
      });
      expect(put.statusCode).toBe(200);
      expect(put.json().webhookSecretsActive).toBe(2);
      for (const [id, secret] of [['evt_b_old', TENANT_SECRET], ['evt_b_new', TENANT_SECRET_NEXT]] as const) {
        const s = signed(chargeSucceeded(nowSeconds(), {}, id), secret);
        expect((await deliver(url, s.payload, s.signature)).statusCode).toBe(200);
      }
      // Retire the old secret: only the new one verifies now.
      await app.server.inject({
        method: 'PUT',
        url: `/v1/tenants/${tenantB.id}/stripe`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { webhookSecrets: [TENANT_SECRET_NEXT] },
      });
      const old = signed(chargeSucceeded(nowSeconds(), {}, 'evt_b_old2'), TENANT_SECRET);
      expect((await deliver(url, old.payload, old.signature)).statusCode).toBe(400);
    });

    it('stops answering on a rotated-away token URL', async () => {
      const rotated = await app.server.inject({
        method: 'POST',
        url: `/v1/tenants/${tenantB.id}/rotate-webhook-token`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      expect(rotated.statusCode).toBe(200);
      const { webhookToken } = rotated.json();
      const s = signed(chargeSucceeded(nowSeconds(), {}, 'evt_b_rot'), TENANT_SECRET_NEXT);
      expect((await deliver(`/webhook/${tenantB.webhookToken}`, s.payload, s.signature)).statusCode).toBe(404);
      expect((await deliver(`/webhook/${webhookToken}`, s.payload, s.signature)).statusCode).toBe(200);
      tenantB.webhookToken = webhookToken;
    });

    it('refuses every delivery with 400 when the tenant has no secret (never fails open)', async () => {
      const created = await app.server.inject({
        method: 'POST',
        url: '/v1/tenants',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { name: 'no-secret' },
      });
      const { webhookToken, id } = created.json();
      for (const signature of [undefined, 'dev', signPayload('{}', 'whsec_dev_anything_12345678', nowSeconds())]) {
        const res = await deliver(`/webhook/${webhookToken}`, JSON.stringify(chargeSucceeded(nowSeconds())), signature);
        expect(res.statusCode).toBe(400);
        expect(res.json().error.code).toBe('webhook_secret_missing');
      }
      expect(await storedCount(id)).toBe(0);
    });

    it('serves the billing events API with filters and cursor pagination', async () => {
      const at = nowSeconds() - 3600;
      for (let i = 0; i < 5; i++) {
        const s = signed(chargeSucceeded(at + i, { customer: i < 3 ? 'cus_page' : 'cus_other' }, `evt_page_${i}`));
        await deliver('/webhooks/stripe', s.payload, s.signature);
      }
      const auth = { authorization: `Bearer ${defaultKey}` };
      const first = await app.server.inject({ method: 'GET', url: '/v1/billing-events?customer=cus_page&limit=2', headers: auth });
      expect(first.statusCode).toBe(200);
      const p1 = first.json();
      expect(p1.data.map((e: { id: string }) => e.id)).toEqual(['evt_page_2', 'evt_page_1']);
      const second = await app.server.inject({ method: 'GET', url: `/v1/billing-events?customer=cus_page&limit=2&cursor=${p1.nextCursor}`, headers: auth });
      expect(second.json().data.map((e: { id: string }) => e.id)).toEqual(['evt_page_0']);
      expect(second.json().nextCursor).toBeNull();

      const since = new Date((at + 3) * 1000).toISOString();
      const ranged = await app.server.inject({ method: 'GET', url: `/v1/billing-events?since=${encodeURIComponent(since)}&until=${at + 5}&type=charge.succeeded&include=payload`, headers: auth });
      expect(ranged.json().data.map((e: { id: string }) => e.id)).toEqual(['evt_page_4', 'evt_page_3']);
      expect(ranged.json().data[0].payload.id).toBe('evt_page_4');

      for (const bad of ['limit=0', 'limit=abc', 'since=yesterday', 'cursor=%%%', 'unknown=1']) {
        const res = await app.server.inject({ method: 'GET', url: `/v1/billing-events?${bad}`, headers: auth });
        expect(res.statusCode, bad).toBe(400);
        expect(res.json().error.code).toBe('validation_failed');
      }
    });

    it('answers 429 with Retry-After over the tenant’s rate, and recovers as time passes', async () => {
      const limitedDb = await freshDatabase(dialect);
      const limited = await startTestApp(limitedDb, { MW_WEBHOOK_RATE_PER_SECOND: '2', MW_WEBHOOK_BURST: '3' });
      try {
        const at = Math.floor(limited.clock.now() / 1000);
        const send = (id: string) => {
          const payload = JSON.stringify(chargeSucceeded(at, {}, id));
          return limited.server.inject({ method: 'POST', url: '/webhooks/stripe', payload, headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, DEFAULT_SECRET, at) } });
        };
        const codes = [];
        for (let i = 0; i < 5; i++) codes.push((await send(`evt_rl_${i}`)).statusCode);
        expect(codes).toEqual([200, 200, 200, 429, 429]);
        const limitedRes = await send('evt_rl_x');
        expect(limitedRes.headers['retry-after']).toBe('1');
        expect(limitedRes.json().error.code).toBe('rate_limited');
        expect(await limited.services.store.getBillingEvent('default', 'evt_rl_x')).toBeUndefined();
        limited.clock.advance(1_000);
        expect((await send('evt_rl_x')).statusCode).toBe(200);
      } finally {
        await limited.close();
        await limitedDb.cleanup();
      }
    });

    it('answers 503 when the store is unavailable, so Stripe retries', async () => {
      const downDb = await freshDatabase(dialect);
      const down = await startTestApp(downDb);
      try {
        // Warm the tenant cache first so the failure is the write itself.
        const warm = signed(chargeSucceeded(nowSeconds(), {}, 'evt_warm'));
        expect((await down.server.inject({ method: 'POST', url: '/webhooks/stripe', payload: warm.payload, headers: { 'stripe-signature': warm.signature, 'content-type': 'application/json' } })).statusCode).toBe(200);
        await down.services.store.close();
        const s = signed(chargeSucceeded(nowSeconds(), {}, 'evt_down'));
        const res = await down.server.inject({ method: 'POST', url: '/webhooks/stripe', payload: s.payload, headers: { 'stripe-signature': s.signature, 'content-type': 'application/json' } });
        expect(res.statusCode).toBe(503);
        expect(res.json().error.code).toBe('store_unavailable');
        const ready = await down.server.inject({ method: 'GET', url: '/health/ready' });
        expect(ready.statusCode).toBe(503);
        expect(ready.json().checks.store.ok).toBe(false);
      } finally {
        await down.close();
        await downDb.cleanup();
      }
    });

    it('keeps stored events across a restart of the process', async () => {
      const restartDb = await freshDatabase(dialect);
      let first = await startTestApp(restartDb);
      const s = signed(chargeSucceeded(nowSeconds(), {}, 'evt_survives'));
      expect((await first.server.inject({ method: 'POST', url: '/webhooks/stripe', payload: s.payload, headers: { 'stripe-signature': s.signature, 'content-type': 'application/json' } })).statusCode).toBe(200);
      const key = first.firstStart!.apiKey;
      await first.close();
      first = await startTestApp(restartDb);
      try {
        expect(first.firstStart).toBeUndefined();
        const res = await first.server.inject({ method: 'GET', url: '/v1/billing-events', headers: { authorization: `Bearer ${key}` } });
        expect(res.statusCode).toBe(200);
        expect(res.json().data.map((e: { id: string }) => e.id)).toEqual(['evt_survives']);
        const again = await first.server.inject({ method: 'POST', url: '/webhooks/stripe', payload: s.payload, headers: { 'stripe-signature': s.signature, 'content-type': 'application/json' } });
        expect(again.json()).toEqual({ received: true, duplicate: true });
      } finally {
        await first.close();
        await restartDb.cleanup();
      }
    });
  });
}
