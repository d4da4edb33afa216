import fs from 'node:fs';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { ADMIN_TOKEN } from '../support/test-app.js';
import { useTestApp } from '../support/use-test-app.js';
import { chargeSucceeded, signPayload } from '../support/stripe-events.js';

const A_SECRET = 'whsec_alpha_secret_0123456789abcdef';
const A_STRIPE_KEY = 'sk_live_alphaSECRETkey0123456789';
const A_TEST_KEY = 'rk_test_alphaTESTkey0123456789';

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`tenants, keys and isolation: ${dialect}`, () => {
    const app = useTestApp(dialect);
    let a: { id: string; apiKey: string; webhookToken: string };
    let b: { id: string; apiKey: string; webhookToken: string };

    const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token?: string, payload?: unknown, headers: Record<string, string> = {}) =>
      app.server.inject({
        method,
        url,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
      });

    beforeAll(async () => {
      const ra = await call('POST', '/v1/tenants', ADMIN_TOKEN, { name: 'alpha', stripeWebhookSecret: A_SECRET, stripeApiKey: A_STRIPE_KEY });
      const rb = await call('POST', '/v1/tenants', ADMIN_TOKEN, { name: 'beta' });
      expect(ra.statusCode).toBe(201);
      expect(rb.statusCode).toBe(201);
      a = ra.json();
      b = rb.json();
      // One event for each tenant.
      const at = Math.floor(app.clock.now() / 1000);
      const payload = JSON.stringify(chargeSucceeded(at, { customer: 'cus_alpha' }, 'evt_alpha_1'));
      const res = await app.server.inject({ method: 'POST', url: `/webhook/${a.webhookToken}`, payload, headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, A_SECRET, at) } });
      expect(res.statusCode).toBe(200);
      await call('PUT', `/v1/tenants/${b.id}/stripe`, ADMIN_TOKEN, { webhookSecret: 'whsec_beta_secret_0123456789abcdef' });
      const pb = JSON.stringify(chargeSucceeded(at, { customer: 'cus_beta' }, 'evt_beta_1'));
      await app.server.inject({ method: 'POST', url: `/webhook/${b.webhookToken}`, payload: pb, headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(pb, 'whsec_beta_secret_0123456789abcdef', at) } });
    });
    it('creates tenants with the admin token only, validating input', async () => {
      expect((await call('POST', '/v1/tenants', undefined, { name: 'x' })).statusCode).toBe(401);
      expect((await call('POST', '/v1/tenants', a.apiKey, { name: 'x' })).statusCode).toBe(403);
      expect((await call('POST', '/v1/tenants', 'mw_bogus_key', { name: 'x' })).statusCode).toBe(401);
      const dup = await call('POST', '/v1/tenants', ADMIN_TOKEN, { name: 'alpha' });
      expect(dup.statusCode).toBe(409);
      for (const body of [{ name: '' }, { name: 'ok', extra: 1 }, { name: 5 }, { name: 'ok', stripeWebhookSecret: 'nope' }, { name: 'ok', stripeApiKey: 'pk_live_x' }]) {
        const res = await call('POST', '/v1/tenants', ADMIN_TOKEN, body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        expect(res.json().error.code).toBe('validation_failed');
      }
      const list = await call('GET', '/v1/tenants', ADMIN_TOKEN);
      expect(list.statusCode).toBe(200);
      const names = list.json().data.map((t: { name: string }) => t.name);
      expect(names).toEqual(expect.arrayContaining(['default', 'alpha', 'beta']));
      expect((await call('GET', '/v1/tenants', a.apiKey)).statusCode).toBe(403);
    });

    it('never returns a secret in tenant responses', async () => {
      const list = await call('GET', '/v1/tenants', ADMIN_TOKEN);
      const text = list.body;
      expect(text).not.toContain(A_SECRET);
      expect(text).not.toContain(A_STRIPE_KEY);
      const alpha = list.json().data.find((t: { id: string }) => t.id === a.id);
      expect(alpha).toMatchObject({ webhookSecretsActive: 1, stripeApiKey: { configured: true, mode: 'live' }, stripeTestApiKey: { configured: false } });
      const put = await call('PUT', `/v1/tenants/${a.id}/stripe`, a.apiKey, { testApiKey: A_TEST_KEY });
      expect(put.statusCode).toBe(200);
      expect(put.body).not.toContain(A_TEST_KEY);
      expect(put.json().stripeTestApiKey.configured).toBe(true);
      expect((await call('PUT', `/v1/tenants/${a.id}/stripe`, a.apiKey, { testApiKey: A_STRIPE_KEY })).statusCode).toBe(400);
      expect(await app.services.tenants.stripeApiKey(a.id, 'test')).toBe(A_TEST_KEY);
    });

    it('keeps secrets out of the database in clear', async () => {
      const needles = [A_SECRET, A_STRIPE_KEY, A_TEST_KEY, a.apiKey, a.webhookToken, b.apiKey];
      let haystack: string;
      if (app.db.sqliteFile) {
        haystack = ['', '-wal', '-shm']
          .map((suffix) => app.db.sqliteFile + suffix)
          .filter((f) => fs.existsSync(f))
          .map((f) => fs.readFileSync(f).toString('latin1'))
          .join('\n');
      } else {
        const client = new pg.Client({ connectionString: app.db.databaseUrl });
        await client.connect();
        const parts: string[] = [];
        for (const table of ['tenants', 'api_keys', 'mw_meta']) {
          const rows = await client.query(`select * from ${table}`);
          parts.push(JSON.stringify(rows.rows));
        }
        await client.end();
        haystack = parts.join('\n');
      }
      expect(haystack.length).toBeGreaterThan(1000);
      expect(haystack).toContain('alpha'); // the search does see plain data
      for (const needle of needles) expect(haystack.includes(needle), 'a secret is stored in clear').toBe(false);
    });

    it('lets a key read only its own tenant, on every route', async () => {
      const own = await call('GET', '/v1/billing-events', a.apiKey);
      expect(own.statusCode).toBe(200);
      expect(own.json().data.map((e: { id: string }) => e.id)).toEqual(['evt_alpha_1']);

      const attempts = [
        call('GET', `/v1/billing-events?tenantId=${b.id}`, a.apiKey),
        call('GET', '/v1/billing-events', a.apiKey, undefined, { 'x-tenant-id': b.id }),
        call('GET', `/v1/tenants/${b.id}`, a.apiKey),
        call('PUT', `/v1/tenants/${b.id}/stripe`, a.apiKey, { webhookSecret: 'whsec_hijack_0123456789abcdef' }),
        call('POST', '/v1/api-keys', a.apiKey, { tenantId: b.id, name: 'x', scopes: ['read'] }),
        call('GET', `/v1/api-keys?tenantId=${b.id}`, a.apiKey),
        call('POST', `/v1/tenants/${b.id}/rotate-webhook-token`, a.apiKey),
      ];
      for (const res of await Promise.all(attempts)) {
        expect(res.statusCode, res.body).toBe(403);
        expect(res.json().error.code).toBe('forbidden');
        expect(res.body).not.toContain('evt_beta_1');
      }
      // B's key ids are not revocable through A either.
      const bKeys = await call('GET', '/v1/api-keys', b.apiKey);
      const bKeyId = bKeys.json().data[0].id;
      expect((await call('DELETE', `/v1/api-keys/${bKeyId}`, a.apiKey)).statusCode).toBe(404);
      expect((await call('GET', '/v1/billing-events', b.apiKey)).statusCode).toBe(200);
    });

    it('honours X-Tenant-ID for the admin token only', async () => {
      const asB = await call('GET', '/v1/billing-events', ADMIN_TOKEN, undefined, { 'x-tenant-id': b.id });
      expect(asB.statusCode).toBe(200);
      expect(asB.json().data.map((e: { id: string }) => e.id)).toEqual(['evt_beta_1']);
      expect((await call('GET', '/v1/billing-events', ADMIN_TOKEN)).statusCode).toBe(400);
      expect((await call('GET', `/v1/billing-events?tenantId=${a.id}`, ADMIN_TOKEN, undefined, { 'x-tenant-id': b.id })).statusCode).toBe(400);
    });

    it('answers 401 for a missing, malformed, unknown or revoked key', async () => {
      for (const headers of [{}, { authorization: 'Basic abc' }, { authorization: 'Bearer' }, { authorization: 'Bearer mw_nope_nope' }]) {
        const res = await app.server.inject({ method: 'GET', url: '/v1/billing-events', headers });
        expect(res.statusCode).toBe(401);
        expect(res.json().error).toMatchObject({ code: 'unauthorized', requestId: expect.any(String) });
      }
      const created = await call('POST', '/v1/api-keys', a.apiKey, { name: 'temp', scopes: ['read'] });
      expect(created.statusCode).toBe(201);
      const temp = created.json();
      expect(temp.key).toMatch(/^mw_/);
      expect((await call('GET', '/v1/billing-events', temp.key)).statusCode).toBe(200);
      const listed = await call('GET', '/v1/api-keys', a.apiKey);
      expect(listed.body).not.toContain(temp.key);
      expect(listed.json().data.find((k: { id: string }) => k.id === temp.id)).toMatchObject({ name: 'temp', scopes: ['read'], revokedAt: null });
      expect((await call('DELETE', `/v1/api-keys/${temp.id}`, a.apiKey)).statusCode).toBe(200);
      expect((await call('GET', '/v1/billing-events', temp.key)).statusCode).toBe(401);
      expect((await call('DELETE', `/v1/api-keys/${temp.id}`, a.apiKey)).statusCode).toBe(404);
    });

    it('enforces scopes', async () => {
      const ingestOnly = (await call('POST', '/v1/api-keys', ADMIN_TOKEN, { tenantId: a.id, name: 'ingest', scopes: ['ingest'] })).json();
      expect((await call('GET', '/v1/billing-events', ingestOnly.key)).statusCode).toBe(403);
      expect((await call('POST', '/v1/api-keys', ingestOnly.key, { name: 'x', scopes: ['write'] })).statusCode).toBe(403);
      const readOnly = (await call('POST', '/v1/api-keys', ADMIN_TOKEN, { tenantId: a.id, name: 'read', scopes: ['read'] })).json();
      expect((await call('PUT', `/v1/tenants/${a.id}/stripe`, readOnly.key, { apiKey: null })).statusCode).toBe(403);
      for (const body of [{ name: 'x', scopes: [] }, { name: 'x', scopes: ['admin'] }, { name: 'x', scopes: 'read' }, { scopes: ['read'] }]) {
        expect((await call('POST', '/v1/api-keys', a.apiKey, body)).statusCode, JSON.stringify(body)).toBe(400);
      }
    });

    it('rejects type-coerced and unknown input instead of guessing', async () => {
      const res = await call('POST', '/v1/api-keys', a.apiKey, { name: 'x', scopes: ['read'], admin: true });
      expect(res.statusCode).toBe(400);
      const notJson = await app.server.inject({ method: 'POST', url: '/v1/tenants', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, payload: '{"name":' });
      expect(notJson.statusCode).toBe(400);
      expect(notJson.json().error.code).toBe('bad_request');
    });
  });
}
