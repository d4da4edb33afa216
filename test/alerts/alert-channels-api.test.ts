import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { ADMIN_TOKEN, T0, type TestApp } from '../support/test-app.js';
import { useTestApp } from '../support/use-test-app.js';
import { startReceiver, type Receiver } from '../support/alert-receivers.js';

const SLACK_TOKEN = 'T0000/B0000/secretTOKENabcdef1234';
const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGK9876';

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`alert channels API: ${dialect}`, () => {
    const app = useTestApp(dialect, { MW_ALLOW_PRIVATE_ALERT_TARGETS: '1', MW_ALERT_TIMEOUT_MS: '500', SMTP_URL: 'smtp://127.0.0.1:1', ALERT_EMAIL_FROM: 'Meterwatch <alerts@mw.example.test>' });
    /** Default settings: private and link-local alert targets are refused. */
    const strict = useTestApp(dialect);
    let receiver: Receiver;
    let key: string;
    let otherKey: string;
    let readOnlyKey: string;

    const call = (target: TestApp, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, token: string, payload?: unknown) =>
      target.server.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
    const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, token = key) => call(app, method, url, token, payload);

    beforeAll(async () => {
      receiver = await startReceiver();
      key = app.firstStart!.apiKey;
      otherKey = (await call(app, 'POST', '/v1/tenants', ADMIN_TOKEN, { name: 'other' })).json().apiKey;
      readOnlyKey = (await api('POST', '/v1/api-keys', { name: 'ro', scopes: ['read'] })).json().key;
    });
    afterAll(async () => {
      await receiver?.close();
    });

    it('creates channels of every type with credentials masked and encrypted at rest', async () => {
      const slack = await api('POST', '/v1/alert-channels', { type: 'slack', name: 'Ops #billing', url: `http://127.0.0.1:9/services/${SLACK_TOKEN}` });
      expect(slack.statusCode).toBe(201);
      expect(slack.json()).toMatchObject({
        id: expect.stringMatching(/^ach_/),
        tenantId: 'default',
        type: 'slack',
        name: 'Ops #billing',
        target: { url: 'http://127.0.0.1:9/…1234' },
        minSeverity: 'info',
        detectors: null,
        sendResolved: true,
        sendDigests: true,
        enabled: true,
        status: 'ok',
        signing: null,
        health: { consecutiveFailures: 0, failingSince: null, lastError: null },
        createdAt: new Date(T0).toISOString(),
      });
      expect(slack.json().secret).toBeUndefined();
      expect(slack.body).not.toContain('secretTOKEN');

      const pd = await api('POST', '/v1/alert-channels', { type: 'pagerduty', name: 'On call', routingKey: ROUTING_KEY, minSeverity: 'critical' });
      expect(pd.statusCode).toBe(201);
      expect(pd.json()).toMatchObject({ type: 'pagerduty', target: { routingKey: '…9876' }, minSeverity: 'critical', sendDigests: false });
      expect(pd.body).not.toContain(ROUTING_KEY);

      const email = await api('POST', '/v1/alert-channels', { type: 'email', name: 'Finance', to: ['finance@example.com', 'cfo@example.com'], detectors: ['refund_surge', 'dispute_spike'], sendResolved: false });
      expect(email.statusCode).toBe(201);
      expect(email.json()).toMatchObject({ target: { to: ['finance@example.com', 'cfo@example.com'] }, detectors: ['refund_surge', 'dispute_spike'], sendResolved: false });

      const discord = await api('POST', '/v1/alert-channels', { type: 'discord', name: 'Discord', url: 'http://127.0.0.1:9/api/webhooks/123/discordsecret' });
      expect(discord.statusCode).toBe(201);

      const list = (await api('GET', '/v1/alert-channels')).json().data as { id: string; type: string }[];
      expect(list.map((c) => c.type)).toEqual(['slack', 'pagerduty', 'email', 'discord']);
      const listed = JSON.stringify(list);
      for (const secret of ['secretTOKEN', ROUTING_KEY, 'discordsecret']) expect(listed).not.toContain(secret);

      const rows = await (app.services.store as KyselyStore).db.selectFrom('alert_channels').select(['config_enc']).execute();
      expect(rows).toHaveLength(4);
      for (const row of rows) {
        expect(row.config_enc).toMatch(/^v1\./);
        for (const secret of ['secretTOKEN', ROUTING_KEY, 'discordsecret', 'finance@example.com']) expect(row.config_enc).not.toContain(secret);
      }
    });

    it('shows a webhook channel’s whsec_ secret once, and rotates it with an overlap', async () => {
      const created = await api('POST', '/v1/alert-channels', { type: 'webhook', name: 'Generic', url: `${receiver.url}/hook` });
      expect(created.statusCode).toBe(201);
      const secret = created.json().secret as string;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32);
      expect(created.json().signing).toEqual({ activeSecrets: 1, previousSecretExpiresAt: null });
      const id = created.json().id as string;

      const shown = await api('GET', `/v1/alert-channels/${id}`);
      expect(shown.json().secret).toBeUndefined();
      expect(shown.body).not.toContain(secret.slice(6, 20));
      expect((await api('GET', '/v1/alert-channels')).body).not.toContain(secret.slice(6, 20));

      const rotated = await api('POST', `/v1/alert-channels/${id}/rotate-secret`, { overlapHours: 2 });
      expect(rotated.statusCode).toBe(200);
      expect(rotated.json().secret).toMatch(/^whsec_/);
      expect(rotated.json().secret).not.toBe(secret);
      expect(rotated.json().signing).toEqual({ activeSecrets: 2, previousSecretExpiresAt: new Date(app.clock.now() + 2 * 3_600_000).toISOString() });
      const slack = (await api('GET', '/v1/alert-channels')).json().data.find((c: { type: string }) => c.type === 'slack');
      expect((await api('POST', `/v1/alert-channels/${slack.id}/rotate-secret`, {})).statusCode).toBe(409);
    });

    it('validates input and reports every problem', async () => {
      const bad = async (body: unknown) => {
        const res = await api('POST', '/v1/alert-channels', body);
        expect(res.statusCode, JSON.stringify(body)).toBe(400);
        return res.json().error as { code: string; message: string };
      };
      await bad({ type: 'slack', name: 'x' });
      await bad({ type: 'sms', name: 'x', url: 'https://example.com' });
      await bad({ type: 'slack', name: 'x', url: 'https://example.com', extra: 1 });
      await bad({ type: 'slack', name: '', url: 'https://example.com' });
      await bad({ type: 'slack', name: 'x', url: 'ftp://example.com/x' });
      await bad({ type: 'slack', name: 'x', url: 'https://example.com', to: ['a@example.com'] });
      await bad({ type: 'pagerduty', name: 'x', routingKey: 'short' });
      await bad({ type: 'pagerduty', name: 'x', routingKey: ROUTING_KEY, sendDigests: true });
      await bad({ type: 'email', name: 'x', to: ['not-an-address'] });
      await bad({ type: 'email', name: 'x', to: [] });
      await bad({ type: 'slack', name: 'x', url: 'https://example.com', minSeverity: 'huge' });
      const unknown = await bad({ type: 'slack', name: 'x', url: 'https://example.com', detectors: ['refund_surge', 'no_such_detector'] });
      expect(unknown.message).toContain('no_such_detector');
      const both = await bad({ type: 'email', name: 'x', to: ['bad'], url: 'https://example.com' });
      expect(both.message).toMatch(/take no url.*invalid addresses/);
      expect((await api('GET', '/v1/alert-channels')).json().data).toHaveLength(5);
    });

    it('updates routing, target and state; deleting cancels and removes', async () => {
      const slack = (await api('GET', '/v1/alert-channels')).json().data.find((c: { type: string }) => c.type === 'slack');
      const put = await api('PUT', `/v1/alert-channels/${slack.id}`, { name: 'Renamed', minSeverity: 'warning', detectors: ['refund_surge'], sendResolved: false, url: `http://127.0.0.1:9/services/NEWTOKEN9999` });
      expect(put.statusCode).toBe(200);
      expect(put.json()).toMatchObject({ name: 'Renamed', minSeverity: 'warning', detectors: ['refund_surge'], sendResolved: false, target: { url: 'http://127.0.0.1:9/…9999' } });
      expect((await api('PUT', `/v1/alert-channels/${slack.id}`, { detectors: null })).json().detectors).toBeNull();
      expect((await api('PUT', `/v1/alert-channels/${slack.id}`, { type: 'discord' })).statusCode).toBe(400);
      expect((await api('PUT', `/v1/alert-channels/${slack.id}`, { to: ['a@example.com'] })).statusCode).toBe(400);

      const paused = await api('PUT', `/v1/alert-channels/${slack.id}`, { enabled: false });
      expect(paused.json()).toMatchObject({ enabled: false, status: 'disabled', disabledReason: 'disabled by a user' });
      const resumed = await api('PUT', `/v1/alert-channels/${slack.id}`, { enabled: true });
      expect(resumed.json()).toMatchObject({ enabled: true, status: 'ok', disabledReason: null });

      expect((await api('DELETE', `/v1/alert-channels/${slack.id}`)).statusCode).toBe(204);
      expect((await api('GET', `/v1/alert-channels/${slack.id}`)).statusCode).toBe(404);
      expect((await api('DELETE', `/v1/alert-channels/${slack.id}`)).statusCode).toBe(404);
      expect((await api('PUT', `/v1/alert-channels/${slack.id}`, { name: 'x' })).statusCode).toBe(404);
    });

    it('sends a test message and reports the answer', async () => {
      const created = await api('POST', '/v1/alert-channels', { type: 'slack', name: 'Test <me>', url: `${receiver.url}/slack-test` });
      const id = created.json().id as string;
      const before = receiver.requests.length;
      const ok = await api('POST', `/v1/alert-channels/${id}/test`);
      expect(ok.statusCode).toBe(200);
      expect(ok.json()).toEqual({ delivered: true, statusCode: 200, error: null });
      expect(receiver.requests.length).toBe(before + 1);
      expect(JSON.parse(receiver.requests[before]!.body)).toEqual({
        text: 'Meterwatch test message for channel Test &lt;me&gt;',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: ':wave: Meterwatch test message', emoji: true } },
          { type: 'section', text: { type: 'mrkdwn', text: `This channel (*Test &lt;me&gt;*) receives alerts for tenant default. Sent at ${new Date(app.clock.now()).toISOString()}.` } },
        ],
      });
      receiver.queue({ status: 500, body: 'internal oops' });
      const failed = await api('POST', `/v1/alert-channels/${id}/test`);
      expect(failed.json()).toEqual({ delivered: false, statusCode: 500, error: 'HTTP 500: internal oops' });
      // A test is not a delivery: the channel's health is untouched.
      expect((await api('GET', `/v1/alert-channels/${id}`)).json().health.consecutiveFailures).toBe(0);
    });

    it('enforces scopes and authentication', async () => {
      const [channel] = (await api('GET', '/v1/alert-channels', undefined, readOnlyKey)).json().data;
      expect(channel).toBeDefined();
      expect((await api('POST', '/v1/alert-channels', { type: 'slack', name: 'x', url: 'https://example.com' }, readOnlyKey)).statusCode).toBe(403);
      expect((await api('PUT', `/v1/alert-channels/${channel.id}`, { name: 'x' }, readOnlyKey)).statusCode).toBe(403);
      expect((await api('DELETE', `/v1/alert-channels/${channel.id}`, undefined, readOnlyKey)).statusCode).toBe(403);
      expect((await api('POST', `/v1/alert-channels/${channel.id}/test`, undefined, readOnlyKey)).statusCode).toBe(403);
      expect((await api('POST', `/v1/alert-channels/${channel.id}/rotate-secret`, {}, readOnlyKey)).statusCode).toBe(403);
      expect((await api('PUT', '/v1/digest/settings', { frequency: 'daily' }, readOnlyKey)).statusCode).toBe(403);
      expect((await app.server.inject({ method: 'GET', url: '/v1/alert-channels' })).statusCode).toBe(401);
      expect((await app.server.inject({ method: 'GET', url: '/v1/alert-deliveries' })).statusCode).toBe(401);
      expect((await app.server.inject({ method: 'GET', url: '/v1/digest' })).statusCode).toBe(401);
      // The admin token names the tenant.
      expect((await api('GET', '/v1/alert-channels', undefined, ADMIN_TOKEN)).statusCode).toBe(400);
      const admin = await app.server.inject({ method: 'GET', url: '/v1/alert-channels', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-tenant-id': 'default' } });
      expect(admin.json().data.length).toBeGreaterThan(0);
      const ghost = await app.server.inject({
        method: 'POST',
        url: '/v1/alert-channels',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-tenant-id': 'ten_nobody' },
        payload: { type: 'slack', name: 'x', url: 'https://example.com' },
      });
      expect(ghost.statusCode).toBe(404);
      const asAdminFor = (tenant: string, method: 'GET' | 'PUT', url: string, payload?: object) =>
        app.server.inject({ method, url, headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-tenant-id': tenant }, ...(payload ? { payload } : {}) });
      expect((await asAdminFor('ten_nobody', 'GET', '/v1/digest')).statusCode).toBe(404);
      expect((await asAdminFor('ten_nobody', 'GET', '/v1/digest/settings')).statusCode).toBe(404);
      expect((await asAdminFor('ten_nobody', 'PUT', '/v1/digest/settings', { frequency: 'off' })).statusCode).toBe(404);
      expect((await asAdminFor('default', 'GET', '/v1/digest/settings')).json()).toMatchObject({ frequency: 'hourly' });
    });

    it('never shows or touches another tenant’s channels, deliveries or digest', async () => {
      const [channel] = (await api('GET', '/v1/alert-channels')).json().data;
      const other = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) => api(method, url, payload, otherKey);
      expect((await other('GET', '/v1/alert-channels')).json().data).toEqual([]);
      expect((await other('GET', `/v1/alert-channels/${channel.id}`)).statusCode).toBe(404);
      expect((await other('PUT', `/v1/alert-channels/${channel.id}`, { name: 'mine now' })).statusCode).toBe(404);
      expect((await other('POST', `/v1/alert-channels/${channel.id}/test`)).statusCode).toBe(404);
      expect((await other('POST', `/v1/alert-channels/${channel.id}/rotate-secret`, {})).statusCode).toBe(404);
      expect((await other('DELETE', `/v1/alert-channels/${channel.id}`)).statusCode).toBe(404);
      expect((await other('GET', '/v1/alert-channels?tenantId=default')).statusCode).toBe(403);
      expect((await other('POST', '/v1/alert-channels', { tenantId: 'default', type: 'slack', name: 'x', url: 'https://example.com' })).statusCode).toBe(403);
      expect((await other('GET', '/v1/alert-deliveries?tenantId=default')).statusCode).toBe(403);
      expect((await other('GET', '/v1/alert-deliveries/adl_missing')).statusCode).toBe(404);
      expect((await other('POST', '/v1/alert-deliveries/adl_missing/retry')).statusCode).toBe(404);
      expect((await other('GET', '/v1/digest?tenantId=default')).statusCode).toBe(403);
      expect((await other('GET', '/v1/digest/settings?tenantId=default')).statusCode).toBe(403);
      expect((await other('PUT', '/v1/digest/settings', { tenantId: 'default', frequency: 'off' })).statusCode).toBe(403);
      const mine = await api('GET', `/v1/alert-channels/${channel.id}`);
      expect(mine.json().name).toBe(channel.name);
    });

    it('caps the number of channels per tenant', async () => {
      const fresh = (await call(app, 'POST', '/v1/tenants', ADMIN_TOKEN, { name: 'many' })).json().apiKey as string;
      for (let i = 0; i < 50; i++) {
        expect((await api('POST', '/v1/alert-channels', { type: 'webhook', name: `w${i}`, url: 'http://127.0.0.1:9/x' }, fresh)).statusCode).toBe(201);
      }
      expect((await api('POST', '/v1/alert-channels', { type: 'webhook', name: 'one too many', url: 'http://127.0.0.1:9/x' }, fresh)).statusCode).toBe(409);
    });

    it('refuses internal targets at creation unless private targets are allowed', async () => {
      const strictKey = strict.firstStart!.apiKey;
      const port = receiver.port;
      for (const url of [
        `http://127.0.0.1:${port}/hook`,
        `http://[::1]:${port}/hook`,
        'http://10.0.0.8/hook',
        'http://192.168.1.20/hook',
        'http://169.254.169.254/latest/meta-data/iam',
        `http://2130706433:${port}/`,
        `http://0177.0.0.1:${port}/`,
        `http://0x7f.0.0.1:${port}/`,
        `http://[::ffff:127.0.0.1]:${port}/`,
        `http://localhost:${port}/`,
      ]) {
        const res = await call(strict, 'POST', '/v1/alert-channels', strictKey, { type: 'webhook', name: 'x', url });
        expect(res.statusCode, url).toBe(400);
        expect(res.json().error.code, url).toBe('alert_target_refused');
        expect(res.json().error.message).not.toContain(url);
      }
      // A public literal is fine; moving an existing channel to an internal URL is refused too.
      const ok = await call(strict, 'POST', '/v1/alert-channels', strictKey, { type: 'webhook', name: 'public', url: 'https://93.184.216.34/hook' });
      expect(ok.statusCode).toBe(201);
      const moved = await call(strict, 'PUT', `/v1/alert-channels/${ok.json().id}`, strictKey, { url: 'http://169.254.169.254/' });
      expect(moved.json().error.code).toBe('alert_target_refused');
      // Email needs SMTP configured on the server.
      const email = await call(strict, 'POST', '/v1/alert-channels', strictKey, { type: 'email', name: 'x', to: ['a@example.com'] });
      expect(email.statusCode).toBe(400);
      expect(email.json().error.code).toBe('email_not_configured');
      expect(receiver.requests.every((r) => r.path !== '/hook')).toBe(true);
    });
  });
}
