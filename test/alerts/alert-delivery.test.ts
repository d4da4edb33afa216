import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Trigger } from '../../src/detectors/detector.js';
import { ManualClock } from '../../src/shared/clock.js';
import { DIALECTS, dialectEnabled, freshDatabase, type FreshDatabase } from '../support/dialects.js';
import { DEFAULT_SECRET, T0, startTestApp, type TestApp } from '../support/test-app.js';
import { decodeHeader, parseMail, startReceiver, startSmtp, type Receiver, type SmtpReceiver } from '../support/alert-receivers.js';
import { fixture, signPayload, stripeEvent } from '../support/stripe-events.js';

const ALERT_ENV = { MW_ALLOW_PRIVATE_ALERT_TARGETS: '1', MW_ALERT_TIMEOUT_MS: '400' };
const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGK9876';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

/** Standard Webhooks verification, written from the specification (not with the code under test). */
function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  const key = Buffer.from(secret.split('_')[1]!, 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',');
    if (version !== 'v1' || !value) return false;
    const got = Buffer.from(value, 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`alert delivery: ${dialect}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
      cleanups.length = 0;
    });

    async function setup(env: Record<string, string> = {}): Promise<{ app: TestApp; db: FreshDatabase; key: string }> {
      const db = await freshDatabase(dialect);
      const app = await startTestApp(db, { ...ALERT_ENV, ...env });
      cleanups.push(async () => {
        await app.close();
        await db.cleanup();
      });
      return { app, db, key: app.firstStart!.apiKey };
    }

    async function receiver(): Promise<Receiver> {
      const r = await startReceiver();
      cleanups.push(() => r.close());
      return r;
    }

    const api = (app: TestApp, key: string) => (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown) =>
      app.server.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

    /** Fan out, then run the worker until a run makes no attempt (bounded). */
    async function pump(app: TestApp): Promise<void> {
      await app.services.alertFanout.run();
      for (let i = 0; i < 10; i++) if ((await app.services.alertWorker.runOnce()) === 0) break;
    }

    const trigger = (subjectId: string, severity: Trigger['severity'], summary: string, at: number, figures: Trigger['figures'] = {}): Trigger => ({
      subjectType: 'customer',
      subjectId,
      severity,
      summary,
      figures,
      eventIds: [],
      at,
    });

    async function createChannel(call: ReturnType<typeof api>, body: Record<string, unknown>): Promise<{ id: string; secret?: string }> {
      const res = await call('POST', '/v1/alert-channels', body);
      expect(res.statusCode, res.body).toBe(201);
      return res.json();
    }

    async function deliveries(call: ReturnType<typeof api>, query = ''): Promise<{ id: string; channelId: string; status: string; attempts: number; event: string; lastError: string | null; lastStatusCode: number | null; nextAttemptAt: string | null; incidentId: string | null }[]> {
      return (await call('GET', `/v1/alert-deliveries?limit=500${query}`)).json().data;
    }

    it('delivers an incident to Slack, Discord, PagerDuty and a signed webhook with exact bodies, then its resolution', async () => {
      const { app, key } = await setup();
      const call = api(app, key);
      const [slack, discord, pd, hook] = [await receiver(), await receiver(), await receiver(), await receiver()];
      discord.setDefault({ status: 204 });
      pd.setDefault({ status: 202, body: '{"status":"success","message":"Event processed"}' });
      await createChannel(call, { type: 'slack', name: 'Slack', url: `${slack.url}/services/T0/B0/x` });
      await createChannel(call, { type: 'discord', name: 'Discord', url: `${discord.url}/api/webhooks/1/t` });
      await createChannel(call, { type: 'pagerduty', name: 'PD', routingKey: ROUTING_KEY, url: `${pd.url}/v2/enqueue` });
      const webhook = await createChannel(call, { type: 'webhook', name: 'Hook', url: `${hook.url}/in` });

      const summary = 'Refunds of 12,000.00 USD in 1 h <!channel> & [click](http://evil.example) @everyone *bold*';
      const figures = { refunds: 12, amount: '12,000.00 USD', window: '1h' };
      await app.services.incidents.applyTrigger('default', 'refund_surge', trigger('cus_<b>&1', 'critical', summary, T0, figures), false);
      // Nothing is sent until the background work runs.
      expect(slack.requests.length + discord.requests.length + pd.requests.length + hook.requests.length).toBe(0);
      await pump(app);

      const [incident] = (await call('GET', '/v1/anomalies')).json().data;
      const id = incident.id as string;
      const url = `https://mw.example.test/v1/anomalies/${id}`;
      const [notification] = await app.services.store.detectors.listNotifications('default', { limit: 10 });

      expect(slack.requests).toHaveLength(1);
      expect(slack.requests[0]!.path).toBe('/services/T0/B0/x');
      expect(slack.json()[0]).toEqual({
        text: ':red_circle: Critical: refund_surge opened: Refunds of 12,000.00 USD in 1 h &lt;!channel&gt; &amp; [click](http://evil.example) @everyone *bold*',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: ':red_circle: Critical: refund_surge opened', emoji: true } },
          { type: 'section', text: { type: 'mrkdwn', text: 'Refunds of 12,000.00 USD in 1 h &lt;!channel&gt; &amp; [click](http://evil.example) @everyone *bold*' } },
          {
            type: 'section',
            fields: [
              { type: 'mrkdwn', text: '*Subject*\ncustomer cus_&lt;b&gt;&amp;1' },
              { type: 'mrkdwn', text: '*Severity*\ncritical' },
              { type: 'mrkdwn', text: '*refunds*\n12' },
              { type: 'mrkdwn', text: '*amount*\n12,000.00 USD' },
              { type: 'mrkdwn', text: '*window*\n1h' },
            ],
          },
          { type: 'context', elements: [{ type: 'mrkdwn', text: `Tenant default · first seen ${iso(T0)} · <${url}|View anomaly ${id}>` }] },
        ],
      });

      expect(discord.json()[0]).toEqual({
        username: 'Meterwatch',
        allowed_mentions: { parse: [] },
        embeds: [
          {
            title: 'Critical: refund_surge opened',
            description: 'Refunds of 12,000.00 USD in 1 h \\<!channel\\> & \\[click\\]\\(http\\://evil.example\\) \\@everyone \\*bold\\*',
            url,
            color: 0xe01e5a,
            fields: [
              { name: 'Subject', value: 'customer cus\\_\\<b\\>&1', inline: true },
              { name: 'Severity', value: 'critical', inline: true },
              { name: 'refunds', value: '12', inline: true },
              { name: 'amount', value: '12,000.00 USD', inline: true },
              { name: 'window', value: '1h', inline: true },
            ],
            footer: { text: `Meterwatch · tenant default · anomaly ${id}` },
            timestamp: iso(T0),
          },
        ],
      });

      expect(pd.requests[0]!.path).toBe('/v2/enqueue');
      expect(pd.json()[0]).toEqual({
        routing_key: ROUTING_KEY,
        event_action: 'trigger',
        dedup_key: `meterwatch:default:${id}`,
        payload: {
          summary: `[refund_surge] ${summary}`,
          source: 'meterwatch/default',
          severity: 'critical',
          timestamp: iso(T0),
          component: 'refund_surge',
          group: 'default',
          class: 'refund_surge',
          custom_details: { tenant: 'default', anomaly: id, subject: 'customer cus_<b>&1', status: 'open', action: 'open', figures },
        },
        links: [{ href: url, text: 'Anomaly in Meterwatch' }],
        client: 'Meterwatch',
      });

      const delivered = await deliveries(call, `&channelId=${webhook.id}`);
      const hookRequest = hook.requests[0]!;
      expect(hookRequest.headers['webhook-id']).toBe(delivered[0]!.id);
      expect(hookRequest.headers['webhook-timestamp']).toBe(String(Math.floor(T0 / 1000)));
      expect(hookRequest.headers['content-type']).toBe('application/json');
      expect(verifyStandardWebhook(webhook.secret!, hookRequest.headers, hookRequest.body)).toBe(true);
      expect(verifyStandardWebhook(`whsec_${Buffer.alloc(32, 7).toString('base64')}`, hookRequest.headers, hookRequest.body)).toBe(false);
      expect(verifyStandardWebhook(webhook.secret!, hookRequest.headers, hookRequest.body.replace('12,000', '99,000'))).toBe(false);
      const incidentBody = {
        id,
        detector: 'refund_surge',
        severity: 'critical',
        status: 'open',
        summary,
        subject: { type: 'customer', id: 'cus_<b>&1' },
        figures,
        firstTriggeredAt: iso(T0),
        openedAt: iso(T0),
        resolvedAt: null,
        resolutionReason: null,
        url,
      };
      expect(JSON.parse(hookRequest.body)).toEqual({ type: 'incident.opened', timestamp: iso(T0), data: { tenantId: 'default', notificationId: notification!.id, incident: incidentBody } });

      // The resolution follows on every channel (PagerDuty closes its alert by the same dedup key).
      app.clock.advance(MINUTE);
      await app.services.incidents.resolve('default', id, 'tester', 'refunded the customer');
      await pump(app);
      const resolvedSlack = slack.json<{ text: string; blocks: unknown[] }>()[1]!;
      expect(resolvedSlack.text).toBe(':white_check_mark: Resolved: refund_surge resolved: Refunds of 12,000.00 USD in 1 h &lt;!channel&gt; &amp; [click](http://evil.example) @everyone *bold*');
      expect(resolvedSlack.blocks.slice(0, 2)).toEqual([
        { type: 'header', text: { type: 'plain_text', text: ':white_check_mark: Resolved: refund_surge resolved', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: 'Refunds of 12,000.00 USD in 1 h &lt;!channel&gt; &amp; [click](http://evil.example) @everyone *bold*\n_Resolution: refunded the customer_' } },
      ]);
      expect(discord.json<{ embeds: { color: number; title: string }[] }>()[1]!.embeds[0]).toMatchObject({ title: 'Resolved: refund_surge resolved', color: 0x2eb67d });
      expect(pd.json()[1]).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: `meterwatch:default:${id}` });
      const resolveNotification = (await app.services.store.detectors.listNotifications('default', { limit: 10 })).find((n) => n.kind === 'resolve')!;
      expect(JSON.parse(hook.requests[1]!.body)).toEqual({
        type: 'incident.resolved',
        timestamp: iso(T0 + MINUTE),
        data: { tenantId: 'default', notificationId: resolveNotification.id, incident: { ...incidentBody, status: 'resolved', resolvedAt: iso(T0 + MINUTE), resolutionReason: 'refunded the customer' } },
      });
      expect(verifyStandardWebhook(webhook.secret!, hook.requests[1]!.headers, hook.requests[1]!.body)).toBe(true);

      const all = await deliveries(call);
      expect(all).toHaveLength(8);
      expect(all.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
      expect(all.filter((d) => d.event === 'resolve')).toHaveLength(4);
      // Pagination with a cursor.
      const page1 = (await call('GET', '/v1/alert-deliveries?limit=5&status=delivered')).json();
      const page2 = (await call('GET', `/v1/alert-deliveries?limit=5&cursor=${page1.nextCursor}`)).json();
      expect(page1.data).toHaveLength(5);
      expect(page2.data).toHaveLength(3);
      expect(page2.nextCursor).toBeNull();
      for (const bad of ['status=bogus', 'limit=0', 'cursor=zz', 'nope=1']) expect((await call('GET', `/v1/alert-deliveries?${bad}`)).statusCode, bad).toBe(400);
    });

    it('signs with both secrets during a rotation overlap, then with the new one only', async () => {
      const { app, key } = await setup();
      const call = api(app, key);
      const hook = await receiver();
      const channel = await createChannel(call, { type: 'webhook', name: 'Hook', url: `${hook.url}/in` });
      const rotated = (await call('POST', `/v1/alert-channels/${channel.id}/rotate-secret`, { overlapHours: 1 })).json();
      await app.services.incidents.applyTrigger('default', 'dispute_spike', trigger('t1', 'warning', 'Disputes up', T0), false);
      await pump(app);
      const first = hook.requests[0]!;
      expect((first.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
      expect(verifyStandardWebhook(channel.secret!, first.headers, first.body)).toBe(true);
      expect(verifyStandardWebhook(rotated.secret, first.headers, first.body)).toBe(true);

      app.clock.advance(HOUR + 1);
      await app.services.incidents.applyTrigger('default', 'dispute_spike', trigger('t2', 'warning', 'Disputes up again', app.clock.now()), false);
      await pump(app);
      const second = hook.requests[1]!;
      expect((second.headers['webhook-signature'] as string).split(' ')).toHaveLength(1);
      expect(verifyStandardWebhook(rotated.secret, second.headers, second.body)).toBe(true);
      expect(verifyStandardWebhook(channel.secret!, second.headers, second.body)).toBe(false);
    });

    it('emails an incident over SMTP with text and HTML parts, user text escaped; a temporary SMTP failure is retried', async () => {
      const smtp: SmtpReceiver = await startSmtp();
      cleanups.push(() => smtp.close());
      const { app, key } = await setup({ SMTP_URL: smtp.url, ALERT_EMAIL_FROM: 'Meterwatch Alerts <alerts@mw.example.test>' });
      const call = api(app, key);
      await createChannel(call, { type: 'email', name: 'Finance', to: ['finance@example.com', 'cfo@example.com'] });

      const summary = 'Customer <script>alert(1)</script> & "friends" refunded 3× 50.00 EUR';
      await app.services.incidents.applyTrigger('default', 'refund_surge', trigger('cus_<x>', 'warning', summary, T0, { refunds: 3 }), false);
      await pump(app);

      expect(smtp.messages).toHaveLength(1);
      const message = smtp.messages[0]!;
      expect(message.from).toBe('alerts@mw.example.test');
      expect(message.to).toEqual(['finance@example.com', 'cfo@example.com']);
      const mail = parseMail(message.raw);
      const [incident] = (await call('GET', '/v1/anomalies')).json().data;
      const [delivery] = await deliveries(call);
      expect(decodeHeader(mail.headers.subject!)).toBe(`[Meterwatch] Warning: refund_surge opened: ${summary}`);
      expect(mail.headers['message-id']).toBe(`<${delivery!.id}@meterwatch.alerts>`);
      expect(mail.headers['content-type']).toMatch(/^multipart\/alternative/);
      expect(mail.text).toContain(summary);
      expect(mail.text).toContain('Subject: customer cus_<x>');
      expect(mail.text).toContain(`View: https://mw.example.test/v1/anomalies/${incident.id}`);
      expect(mail.html).toContain('Customer &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;friends&quot; refunded 3× 50.00 EUR');
      expect(mail.html).toContain('customer cus_&lt;x&gt;');
      expect(mail.html).toContain(`<a href="https://mw.example.test/v1/anomalies/${incident.id}">`);
      expect(mail.html).not.toContain('<script>');

      smtp.failNext(1);
      await app.services.incidents.applyTrigger('default', 'dispute_spike', trigger('t', 'critical', 'Disputes', T0), false);
      await pump(app);
      const [waiting] = await deliveries(call, '&status=pending');
      expect(waiting).toMatchObject({ attempts: 1, lastStatusCode: 451, lastError: expect.stringMatching(/^SMTP: .*mailbox busy/) });
      app.clock.advance(HOUR);
      await pump(app);
      expect(smtp.messages).toHaveLength(2);
      expect((await deliveries(call)).every((d) => d.status === 'delivered')).toBe(true);
    });

    it('routes by severity, detector and resolve settings, and fans each notification out exactly once', async () => {
      const { app, key } = await setup();
      const call = api(app, key);
      const r = await receiver();
      const paths = ['all', 'critical', 'refunds', 'no-resolve', 'paused'];
      await createChannel(call, { type: 'webhook', name: 'all', url: `${r.url}/all` });
      await createChannel(call, { type: 'webhook', name: 'critical', url: `${r.url}/critical`, minSeverity: 'critical' });
      await createChannel(call, { type: 'webhook', name: 'refunds', url: `${r.url}/refunds`, detectors: ['refund_surge'] });
      await createChannel(call, { type: 'webhook', name: 'no-resolve', url: `${r.url}/no-resolve`, sendResolved: false });
      const paused = await createChannel(call, { type: 'webhook', name: 'paused', url: `${r.url}/paused` });
      await call('PUT', `/v1/alert-channels/${paused.id}`, { enabled: false });

      await app.services.incidents.applyTrigger('default', 'dispute_spike', trigger('a', 'warning', 'Disputes', T0), false);
      await app.services.incidents.applyTrigger('default', 'refund_surge', trigger('b', 'critical', 'Refunds', T0), false);
      // Fan-out twice in a row and twice at once: still one delivery per (notification, channel).
      await app.services.alertFanout.run();
      await app.services.alertFanout.run();
      await Promise.all([app.services.alertFanout.run(), app.services.alertFanout.run()]);
      expect(await deliveries(call)).toHaveLength(2 + 4);

      const [b] = (await call('GET', '/v1/anomalies?detector=refund_surge')).json().data;
      await app.services.incidents.resolve('default', b.id, 'tester', null);
      await pump(app);
      await pump(app);
      const count = (p: string) => r.requests.filter((q) => q.path === `/${p}`).length;
      expect(Object.fromEntries(paths.map((p) => [p, count(p)]))).toEqual({ all: 3, critical: 2, refunds: 2, 'no-resolve': 2, paused: 0 });
      expect(await deliveries(call)).toHaveLength(9);
    });

    it('retries a 500 with backoff; a timeout and a redirect are failures; a 429 waits for Retry-After', async () => {
      const { app, key } = await setup();
      const call = api(app, key);
      const r = await receiver();
      r.queue(
        { status: 500, body: 'upstream broke' },
        { status: 200, hang: true },
        { status: 302, headers: { location: `${r.url}/elsewhere` } },
        { status: 429, headers: { 'retry-after': '120' }, body: 'slow down' },
      );
      const channel = await createChannel(call, { type: 'slack', name: 'Flaky', url: `${r.url}/hook` });
      await app.services.incidents.applyTrigger('default', 'refund_surge', trigger('c', 'warning', 'Refunds', T0), false);
      await pump(app);

      let [d] = await deliveries(call);
      expect(d).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500: upstream broke' });
      const due = Date.parse(d!.nextAttemptAt!);
      expect(due).toBeGreaterThanOrEqual(T0 + 15_000);
      expect(due).toBeLessThanOrEqual(T0 + 30_000);
      await pump(app);
      expect(r.requests).toHaveLength(1);

      app.clock.advance(30_000);
      await pump(app);
      [d] = await deliveries(call);
      expect(r.requests).toHaveLength(2);
      expect(d).toMatchObject({ status: 'pending', attempts: 2, lastStatusCode: null, lastError: 'no response within 400 ms' });

      app.clock.advance(60_000);
      await pump(app);
      [d] = await deliveries(call);
      expect(d).toMatchObject({ attempts: 3, lastStatusCode: 302, lastError: 'HTTP 302: redirect not followed' });
      expect(r.requests.map((q) => q.path)).toEqual(['/hook', '/hook', '/hook']);

      app.clock.advance(120_000);
      await pump(app);
      [d] = await deliveries(call);
      expect(d).toMatchObject({ attempts: 4, lastStatusCode: 429, nextAttemptAt: iso(app.clock.now() + 120_000) });
      // Throttling is not a broken channel.
      expect((await call('GET', `/v1/alert-channels/${channel.id}`)).json().health).toMatchObject({ consecutiveFailures: 3, backedOffUntil: iso(app.clock.now() + 120_000) });

      app.clock.advance(119_000);
      await pump(app);
      expect(r.requests).toHaveLength(4);
      app.clock.advance(1_000);
      await pump(app);
      [d] = await deliveries(call);
      expect(d).toMatchObject({ status: 'delivered', attempts: 5, lastStatusCode: 200, lastError: null });
      expect(r.requests).toHaveLength(5);
      expect(new Set(r.requests.map((q) => q.body)).size).toBe(1);
      const health = (await call('GET', `/v1/alert-channels/${channel.id}`)).json();
      expect(health).toMatchObject({ status: 'ok', health: { consecutiveFailures: 0, lastSuccessAt: iso(app.clock.now()) } });
    });

    it('marks a repeatedly failing channel failing, alerts the other channels and the API, and resolves on recovery', async () => {
      const { app, key } = await setup();
      const call = api(app, key);
      const broken = await receiver();
      const good = await receiver();
      broken.setDefault({ status: 500, body: 'down' });
      const a = await createChannel(call, { type: 'slack', name: 'Broken Slack', url: `${broken.url}/hook` });
      await createChannel(call, { type: 'webhook', name: 'Backup', url: `${good.url}/in` });

      await app.services.incidents.applyTrigger('default', 'refund_surge', trigger('c', 'warning', 'Refunds up', T0), false);
      await pump(app);
      for (let i = 0; i < 4; i++) {
        app.clock.advance(HOUR);
        await pump(app);
      }
      expect(broken.requests).toHaveLength(5);
      const channel = (await call('GET', `/v1/alert-channels/${a.id}`)).json();
      expect(channel).toMatchObject({ status: 'failing', health: { consecutiveFailures: 5, lastError: 'HTTP 500: down', failingSince: iso(app.clock.now()) } });

      const failing = (await call('GET', '/v1/anomalies?detector=alert_channel_failing')).json().data;
      expect(failing).toEqual([
        expect.objectContaining({
          detector: 'alert_channel_failing',
          subject: { type: 'alert_channel', id: a.id },
          severity: 'warning',
          status: 'open',
          summary: 'Alert channel "Broken Slack" (slack) is failing: 5 deliveries in a row failed; last error: HTTP 500: down',
        }),
      ]);
      await pump(app);
      const received = good.json<{ type: string; data: { incident: { detector: string } } }>();
      expect(received.map((b) => `${b.type}:${b.data.incident.detector}`)).toEqual(['incident.opened:refund_surge', 'incident.opened:alert_channel_failing']);
      // The broken channel is never asked to carry news of itself.
      expect(broken.requests.every((q) => q.body.includes('refund_surge') && !q.body.includes('alert_channel_failing'))).toBe(true);

      broken.setDefault({ status: 200, body: 'ok' });
      app.clock.advance(HOUR);
      await pump(app);
      await pump(app);
      expect((await call('GET', `/v1/alert-channels/${a.id}`)).json()).toMatchObject({ status: 'ok', health: { consecutiveFailures: 0, failingSince: null } });
      expect((await call('GET', '/v1/anomalies?detector=alert_channel_failing')).json().data[0]).toMatchObject({ status: 'resolved', resolution: { actor: 'system', reason: 'the channel delivered again' } });
      expect(good.json<{ type: string; data: { incident: { detector: string } } }>().map((b) => `${b.type}:${b.data.incident.detector}`)).toEqual([
        'incident.opened:refund_surge',
        'incident.opened:alert_channel_failing',
        'incident.resolved:alert_channel_failing',
      ]);
      expect(broken.requests.filter((q) => q.body.includes('alert_channel_failing'))).toHaveLength(0);
    });

    it('disables a channel on 410 Gone, cancels its queue and raises a critical alert elsewhere', async () => {
      const { app, key } = await setup();
      const call = api(app, key);
      const gone = await receiver();
      const good = await receiver();
      gone.setDefault({ status: 410, body: 'webhook deleted' });
      const a = await createChannel(call, { type: 'discord', name: 'Old Discord', url: `${gone.url}/api/webhooks/1/t` });
      await createChannel(call, { type: 'webhook', name: 'Backup', url: `${good.url}/in` });

      await app.services.incidents.applyTrigger('default', 'refund_surge', trigger('x', 'warning', 'Refunds X', T0), false);
      await app.services.incidents.applyTrigger('default', 'refund_surge', trigger('y', 'warning', 'Refunds Y', T0), false);
      await pump(app);
      await pump(app);
      expect(gone.requests).toHaveLength(1);
      const mine = await deliveries(call, `&channelId=${a.id}`);
      expect(mine.map((d) => d.status).sort()).toEqual(['canceled', 'failed']);
      expect(mine.find((d) => d.status === 'failed')).toMatchObject({ lastStatusCode: 410, lastError: 'HTTP 410: webhook deleted' });
      const channel = (await call('GET', `/v1/alert-channels/${a.id}`)).json();
      expect(channel).toMatchObject({ enabled: false, status: 'disabled', disabledReason: expect.stringContaining('410 Gone') });
      expect((await call('GET', '/v1/anomalies?detector=alert_channel_failing')).json().data[0]).toMatchObject({ severity: 'critical', subject: { id: a.id } });
      expect(good.json<{ data: { incident: { detector: string; severity: string } } }>().map((b) => `${b.data.incident.detector}/${b.data.incident.severity}`)).toEqual([
        'refund_surge/warning',
        'refund_surge/warning',
        'alert_channel_failing/critical',
      ]);

      // A disabled channel gets nothing new; re-enabling it resolves the incident.
      await app.services.incidents.applyTrigger('default', 'refund_surge', trigger('z', 'warning', 'Refunds Z', T0), false);
      await pump(app);
      expect(gone.requests).toHaveLength(1);
      gone.setDefault({ status: 200 });
      expect((await call('PUT', `/v1/alert-channels/${a.id}`, { enabled: true })).json()).toMatchObject({ status: 'ok', disabledReason: null });
      await pump(app);
      expect(good.json<{ type: string }>().map((b) => b.type).slice(-1)).toEqual(['incident.resolved']);
      expect((await call('POST', `/v1/alert-deliveries/${mine.find((d) => d.status === 'canceled')!.id}/retry`)).statusCode).toBe(200);
      await pump(app);
      expect(gone.requests).toHaveLength(2);
    });

    it('gives up after about a day; a failed delivery can be retried by hand, a delivered one never again', async () => {
      const { app, key } = await setup();
      const call = api(app, key);
      const r = await receiver();
      r.setDefault({ status: 503, body: 'maintenance' });
      await createChannel(call, { type: 'webhook', name: 'Down', url: `${r.url}/in` });
      await app.services.incidents.applyTrigger('default', 'refund_surge', trigger('c', 'warning', 'Refunds', T0), false);
      await pump(app);
      let hours = 0;
      for (; hours < 30; hours++) {
        const [d] = await deliveries(call);
        if (d!.status === 'failed') break;
        app.clock.advance(HOUR);
        await pump(app);
      }
      expect(hours).toBeGreaterThanOrEqual(23);
      expect(hours).toBeLessThanOrEqual(25);
      const [failed] = await deliveries(call);
      expect(failed).toMatchObject({ status: 'failed', lastStatusCode: 503, nextAttemptAt: null, lastError: expect.stringMatching(/^HTTP 503: maintenance \(gave up after \d+ attempts\)$/) });
      expect(failed!.attempts).toBe(r.requests.length);
      expect(failed!.attempts).toBeGreaterThan(20);
      app.clock.advance(HOUR);
      await pump(app);
      expect(r.requests).toHaveLength(failed!.attempts);

      r.setDefault({ status: 200 });
      const retried = await call('POST', `/v1/alert-deliveries/${failed!.id}/retry`);
      expect(retried.statusCode).toBe(200);
      expect(retried.json()).toMatchObject({ status: 'pending', nextAttemptAt: iso(app.clock.now()), retryUntil: iso(app.clock.now() + 24 * HOUR) });
      await pump(app);
      expect((await call('GET', `/v1/alert-deliveries/${failed!.id}`)).json()).toMatchObject({ status: 'delivered', attempts: failed!.attempts + 1 });
      const again = await call('POST', `/v1/alert-deliveries/${failed!.id}/retry`);
      expect(again.statusCode).toBe(409);
      await pump(app);
      expect(r.requests).toHaveLength(failed!.attempts + 1);
      expect((await call('POST', '/v1/alert-deliveries/adl_missing/retry')).statusCode).toBe(404);
      expect((await call('GET', '/v1/alert-deliveries/adl_missing')).statusCode).toBe(404);
    });

    it('resumes pending deliveries after a restart and never repeats a delivered one', async () => {
      const db = await freshDatabase(dialect);
      cleanups.push(() => db.cleanup());
      const good = await receiver();
      const bad = await receiver();
      bad.setDefault({ status: 500 });

      const first = await startTestApp(db, ALERT_ENV);
      let call = api(first, first.firstStart!.apiKey);
      const key = first.firstStart!.apiKey;
      await createChannel(call, { type: 'webhook', name: 'good', url: `${good.url}/in` });
      await createChannel(call, { type: 'webhook', name: 'bad', url: `${bad.url}/in` });
      await first.services.incidents.applyTrigger('default', 'refund_surge', trigger('c', 'critical', 'Refunds', T0), false);
      await pump(first);
      expect([good.requests.length, bad.requests.length]).toEqual([1, 1]);
      // A second incident is claimed by a worker that then dies mid-send (its claim is never completed).
      await first.services.incidents.applyTrigger('default', 'dispute_spike', trigger('d', 'critical', 'Disputes', T0), false);
      await first.services.alertFanout.run();
      const orphaned = await first.services.store.alerts.claimDeliveries(T0, 10, T0 + HOUR + 5 * MINUTE, 'dead-worker');
      expect(orphaned.map((d) => d.status)).toEqual(['sending']);
      await first.close();

      bad.setDefault({ status: 200 });
      const second = await startTestApp(db, ALERT_ENV, new ManualClock(T0 + HOUR));
      cleanups.push(() => second.close());
      call = api(second, key);
      await pump(second);
      expect(bad.requests).toHaveLength(3); // the retry of the first incident, the second incident
      expect(good.requests).toHaveLength(1); // the delivered one is not sent again; the orphan is still leased
      second.clock.advance(5 * MINUTE);
      await pump(second);
      expect(good.requests).toHaveLength(2);
      second.clock.advance(HOUR);
      await pump(second);
      expect([good.requests.length, bad.requests.length]).toEqual([2, 3]);
      const all = await deliveries(call);
      expect(all).toHaveLength(4);
      expect(all.every((d) => d.status === 'delivered')).toBe(true);
      const ids = good.requests.map((q) => q.headers['webhook-id']);
      expect(new Set(ids).size).toBe(2);
    });

    it('carries a detector trigger from a signed Stripe webhook to Slack through the background loop, outside the request', async () => {
      const { app, key } = await setup();
      const call = api(app, key);
      const slack = await receiver();
      await createChannel(call, { type: 'slack', name: 'Slack', url: `${slack.url}/hook` });
      const now = Math.floor(T0 / 1000);
      const send = async (event: Record<string, unknown>) => {
        const payload = JSON.stringify(event);
        const res = await app.server.inject({ method: 'POST', url: '/webhooks/stripe', payload, headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, DEFAULT_SECRET, now) } });
        expect(res.statusCode).toBe(200);
      };
      const charge = { ...fixture('charge'), id: 'ch_e2e', amount: 1000, amount_captured: 1000, amount_refunded: 0, captured: true, currency: 'usd', customer: 'cus_e2e', status: 'succeeded', created: now - 60, refunds: { object: 'list', data: [], has_more: false } };
      await send(stripeEvent('charge.succeeded', charge, { created: now - 60 }));
      await send(stripeEvent('refund.created', { ...fixture('refund'), id: 're_e2e', charge: 'ch_e2e', amount: 1500, currency: 'usd', status: 'succeeded', created: now }, { created: now }));
      expect(slack.requests).toHaveLength(0);

      await app.services.loop.tick();
      await app.services.alertWorker.idle();
      expect(slack.requests).toHaveLength(1);
      expect(slack.json<{ text: string }>()[0]!.text).toMatch(/refund_exceeds_charge opened/);
      expect((await deliveries(call)).find((d) => d.event === 'open')).toMatchObject({ status: 'delivered', attempts: 1 });
    });
  });
}
