import { afterEach, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled, freshDatabase } from '../support/dialects.js';
import { deliverWebhook, startTestApp, type TestApp } from '../support/test-app.js';
import { parseMail, startReceiver, startSmtp, type Receiver } from '../support/alert-receivers.js';
import { chargeSucceeded, fixture, stripeEvent } from '../support/stripe-events.js';

const ALERT_ENV = { MW_ALLOW_PRIVATE_ALERT_TARGETS: '1', MW_ALERT_TIMEOUT_MS: '400' };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ROUTING_KEY = 'R0UT1NGKEYR0UT1NGKEYR0UT1NGK9876';
const at = (s: string) => Date.parse(s);

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`digests: ${dialect}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.reverse()) await cleanup();
      cleanups.length = 0;
    });

    async function setup(env: Record<string, string> = {}) {
      const db = await freshDatabase(dialect);
      const app = await startTestApp(db, { ...ALERT_ENV, ...env });
      cleanups.push(async () => {
        await app.close();
        await db.cleanup();
      });
      const key = app.firstStart!.apiKey;
      const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) =>
        app.server.inject({ method, url, headers: { authorization: `Bearer ${key}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });
      return { app, call };
    }

    async function receiver(): Promise<Receiver> {
      const r = await startReceiver();
      cleanups.push(() => r.close());
      return r;
    }

    async function pump(app: TestApp): Promise<number> {
      const queued = await app.services.digests.runDue();
      for (let i = 0; i < 10; i++) if ((await app.services.alertWorker.runOnce()) === 0) break;
      return queued;
    }

    async function deliver(app: TestApp, event: Record<string, unknown>): Promise<void> {
      expect(await deliverWebhook(app, event)).toBe(200);
    }

    /** Nine events between 07:00 and 12:00 UTC on 2026-11-20, in three currencies. */
    async function billingDay(app: TestApp): Promise<void> {
      const s = (iso: string) => Math.floor(at(iso) / 1000);
      await deliver(app, chargeSucceeded(s('2026-11-20T07:00:00Z'), { amount: 2000, currency: 'usd', customer: 'cus_1' }));
      await deliver(app, chargeSucceeded(s('2026-11-20T08:00:00Z'), { amount: 2000, currency: 'usd', customer: 'cus_2' }));
      await deliver(app, chargeSucceeded(s('2026-11-20T09:00:00Z'), { amount: 1500, currency: 'eur', customer: 'cus_3' }));
      await deliver(app, chargeSucceeded(s('2026-11-20T10:00:00Z'), { amount: 1500, currency: 'jpy', customer: 'cus_4' }));
      const failedAt = s('2026-11-20T10:30:00Z');
      await deliver(app, stripeEvent('charge.failed', { ...fixture('charge'), id: 'ch_failed', amount: 999, currency: 'usd', customer: 'cus_5', status: 'failed', captured: false, created: failedAt }, { created: failedAt }));
      const refundAt = s('2026-11-20T11:00:00Z');
      await deliver(app, stripeEvent('refund.created', { ...fixture('refund'), id: 're_1', charge: 'ch_elsewhere', amount: 500, currency: 'usd', status: 'succeeded', created: refundAt }, { created: refundAt }));
      const disputeAt = s('2026-11-20T11:10:00Z');
      await deliver(app, stripeEvent('charge.dispute.created', { ...fixture('dispute'), id: 'dp_1', charge: 'ch_disputed', amount: 2000, currency: 'usd', created: disputeAt }, { created: disputeAt }));
      const sub = fixture('subscription');
      const item = (sub.items as { data: Record<string, unknown>[] }).data[0]!;
      const subAt = s('2026-11-20T11:30:00Z');
      await deliver(app, stripeEvent('customer.subscription.created', { ...sub, id: 'sub_new', customer: 'cus_6', status: 'active' }, { created: subAt }));
      const euroItem = { ...item, quantity: 1, price: { ...(item.price as Record<string, unknown>), unit_amount: 500, currency: 'eur' } };
      await deliver(
        app,
        stripeEvent('customer.subscription.deleted', { ...sub, id: 'sub_gone', customer: 'cus_7', currency: 'eur', status: 'canceled', items: { object: 'list', data: [euroItem] } }, { created: subAt + 60 }),
      );
      await app.services.detectorEngine.drain();
    }

    const expectedContent = {
      tenantId: 'default',
      period: { frequency: 'daily', start: '2026-11-19T13:00:00.000Z', end: '2026-11-20T13:00:00.000Z', timeZone: 'Asia/Tokyo', label: '2026-11-19 22:00 – 2026-11-20 22:00 (Asia/Tokyo)' },
      events: { received: 9 },
      charges: {
        succeeded: {
          count: 4,
          amounts: [
            { currency: 'eur', count: 1, amount: 1500, formatted: '15.00 EUR' },
            { currency: 'jpy', count: 1, amount: 1500, formatted: '1,500 JPY' },
            { currency: 'usd', count: 2, amount: 4000, formatted: '40.00 USD' },
          ],
        },
        failed: { count: 1, amounts: [{ currency: 'usd', count: 1, amount: 999, formatted: '9.99 USD' }] },
      },
      refunds: { count: 1, amounts: [{ currency: 'usd', count: 1, amount: 500, formatted: '5.00 USD' }] },
      disputes: { count: 1, amounts: [{ currency: 'usd', count: 1, amount: 2000, formatted: '20.00 USD' }] },
      subscriptions: {
        new: { count: 1, amounts: [{ currency: 'usd', count: 1, amount: 2000, formatted: '20.00 USD' }] },
        canceled: { count: 1, amounts: [{ currency: 'eur', count: 1, amount: 500, formatted: '5.00 EUR' }] },
      },
      openIncidents: { total: 0, items: [] },
      empty: false,
    };

    it('builds a daily digest at the configured hour and time zone, per currency, and sends it once to every digest channel', async () => {
      const smtp = await startSmtp();
      cleanups.push(() => smtp.close());
      const { app, call } = await setup({ SMTP_URL: smtp.url, ALERT_EMAIL_FROM: 'alerts@mw.example.test' });
      const slack = await receiver();
      const hook = await receiver();
      const pd = await receiver();
      await call('POST', '/v1/alert-channels', { type: 'slack', name: 'Slack', url: `${slack.url}/s` });
      await call('POST', '/v1/alert-channels', { type: 'webhook', name: 'Hook', url: `${hook.url}/h` });
      await call('POST', '/v1/alert-channels', { type: 'email', name: 'Mail', to: ['ops@example.com'] });
      await call('POST', '/v1/alert-channels', { type: 'pagerduty', name: 'PD', routingKey: ROUTING_KEY, url: `${pd.url}/pd` });
      const muted = await receiver();
      await call('POST', '/v1/alert-channels', { type: 'slack', name: 'No digests', url: `${muted.url}/s`, sendDigests: false });

      expect((await call('GET', '/v1/digest/settings')).json()).toEqual({ frequency: 'hourly', hour: 9, weekday: 1, timeZone: 'UTC', skipEmpty: true });
      for (const bad of [{ timeZone: 'Mars/Olympus' }, { hour: 24 }, { weekday: 0 }, { frequency: 'monthly' }, { extra: true }]) {
        expect((await call('PUT', '/v1/digest/settings', bad)).statusCode, JSON.stringify(bad)).toBe(400);
      }
      const put = await call('PUT', '/v1/digest/settings', { frequency: 'daily', hour: 22, timeZone: 'Asia/Tokyo' });
      expect(put.json()).toEqual({ frequency: 'daily', hour: 22, weekday: 1, timeZone: 'Asia/Tokyo', skipEmpty: true });

      await billingDay(app);
      expect((await call('GET', '/v1/anomalies')).json().data).toEqual([]);

      // At 12:00 UTC the latest complete Tokyo day ended yesterday at 22:00 and was empty: skipped.
      expect(await pump(app)).toBe(0);
      expect(slack.requests).toHaveLength(0);

      const preview = await call('GET', '/v1/digest?period=daily&until=2026-11-20T13:00:00Z');
      expect(preview.statusCode).toBe(200);
      expect(preview.json()).toEqual(expectedContent);
      expect((await call('GET', '/v1/digest?period=monthly')).statusCode).toBe(400);
      expect((await call('GET', '/v1/digest?until=yesterday')).statusCode).toBe(400);

      // Due five minutes after 22:00 Tokyo (13:00 UTC), not before.
      app.clock.set(at('2026-11-20T13:05:00Z') - 1);
      expect(await pump(app)).toBe(0);
      app.clock.set(at('2026-11-20T13:05:00Z'));
      expect(await pump(app)).toBe(1);
      expect(await pump(app)).toBe(0);
      expect([slack.requests.length, hook.requests.length, smtp.messages.length, pd.requests.length, muted.requests.length]).toEqual([1, 1, 1, 0, 0]);

      expect(slack.json()[0]).toEqual({
        text: ':bar_chart: Meterwatch daily digest: 2026-11-19 22:00 – 2026-11-20 22:00 (Asia/Tokyo)',
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: ':bar_chart: Meterwatch daily digest', emoji: true } },
          { type: 'context', elements: [{ type: 'mrkdwn', text: '2026-11-19 22:00 – 2026-11-20 22:00 (Asia/Tokyo) · tenant default' }] },
          {
            type: 'section',
            fields: [
              { type: 'mrkdwn', text: '*Events received*\n9' },
              { type: 'mrkdwn', text: '*Charges succeeded*\n4\n15.00 EUR\n1,500 JPY\n40.00 USD' },
              { type: 'mrkdwn', text: '*Charges failed*\n1\n9.99 USD' },
              { type: 'mrkdwn', text: '*Refunds*\n1\n5.00 USD' },
              { type: 'mrkdwn', text: '*Disputes*\n1\n20.00 USD' },
              { type: 'mrkdwn', text: '*New subscriptions*\n1\n20.00 USD' },
              { type: 'mrkdwn', text: '*Canceled subscriptions*\n1\n5.00 EUR' },
            ],
          },
          { type: 'section', text: { type: 'mrkdwn', text: '*Open anomalies*\nNone' } },
        ],
      });
      const webhookBody = hook.json<{ type: string; timestamp: string; data: Record<string, unknown> }>()[0]!;
      expect(webhookBody.type).toBe('digest');
      expect(webhookBody.timestamp).toBe('2026-11-20T13:00:00.000Z');
      expect(webhookBody.data).toEqual({ digestId: expect.stringMatching(/^dig_/), ...expectedContent });
      const mail = parseMail(smtp.messages[0]!.raw);
      expect(mail.text).toContain('Charges succeeded: 4 (15.00 EUR, 1,500 JPY, 40.00 USD)');
      expect(mail.text).toContain('Canceled subscriptions: 1 (5.00 EUR)');
      expect(mail.html).toContain('<th style="text-align:left;padding:2px 12px 2px 0">Refunds</th><td style="padding:2px 0">1 (5.00 USD)</td>');

      const listed = (await call('GET', '/v1/alert-deliveries')).json().data as { kind: string; event: string; status: string }[];
      expect(listed).toHaveLength(3);
      expect(listed.every((d) => d.kind === 'digest' && d.event === 'digest' && d.status === 'delivered')).toBe(true);
    });

    it('is hourly by default, skips empty periods unless told otherwise, lists open anomalies, and can be turned off', async () => {
      const { app, call } = await setup();
      const hook = await receiver();
      await call('POST', '/v1/alert-channels', { type: 'webhook', name: 'Hook', url: `${hook.url}/h` });

      // 12:00 UTC: the hour 10:00–11:00 (due at 11:05) was empty and is skipped.
      expect(await pump(app)).toBe(0);
      await call('PUT', '/v1/digest/settings', { skipEmpty: false });
      expect(await pump(app)).toBe(0); // that period was already decided
      app.clock.advance(HOUR);
      expect(await pump(app)).toBe(1);
      const empty = hook.json<{ data: { empty: boolean; period: { start: string; end: string }; events: { received: number } } }>()[0]!.data;
      expect(empty).toMatchObject({ empty: true, period: { start: '2026-11-20T11:00:00.000Z', end: '2026-11-20T12:00:00.000Z' }, events: { received: 0 } });

      await call('PUT', '/v1/digest/settings', { skipEmpty: true });
      await deliver(app, chargeSucceeded(Math.floor(app.clock.now() / 1000), { amount: 700, currency: 'gbp', customer: 'cus_h' }));
      await app.services.detectorEngine.drain();
      await app.services.incidents.applyTrigger('default', 'refund_surge', { subjectType: 'tenant', subjectId: 'default', severity: 'warning', summary: 'Refunds <up>', figures: {}, eventIds: [], at: app.clock.now() }, false);
      // At 15:00 the latest complete hour is 13:00–14:00 (only the latest period is sent, never a backlog).
      app.clock.advance(2 * HOUR);
      expect(await pump(app)).toBe(1);
      const [incident] = (await call('GET', '/v1/anomalies')).json().data;
      const digest = hook.json<{ type: string; data: Record<string, unknown> }>().filter((b) => b.type === 'digest')[1]!.data;
      expect(digest).toMatchObject({
        empty: false,
        period: { frequency: 'hourly', start: '2026-11-20T13:00:00.000Z', end: '2026-11-20T14:00:00.000Z' },
        events: { received: 1 },
        charges: { succeeded: { count: 1, amounts: [{ currency: 'gbp', amount: 700, formatted: '7.00 GBP' }] } },
        openIncidents: { total: 1, items: [{ id: incident.id, detector: 'refund_surge', severity: 'warning', summary: 'Refunds <up>', url: `https://mw.example.test/v1/anomalies/${incident.id}` }] },
      });

      await call('PUT', '/v1/digest/settings', { frequency: 'off' });
      app.clock.advance(3 * HOUR);
      expect(await pump(app)).toBe(0);
      expect(hook.json<{ type: string }>().filter((b) => b.type === 'digest')).toHaveLength(2);
    });

    it('sends weekly digests on the configured weekday and hour', async () => {
      const { app, call } = await setup();
      const hook = await receiver();
      await call('POST', '/v1/alert-channels', { type: 'webhook', name: 'Hook', url: `${hook.url}/h` });
      await call('PUT', '/v1/digest/settings', { frequency: 'weekly', weekday: 1, hour: 8, timeZone: 'Europe/Paris', skipEmpty: false });
      expect((await call('GET', '/v1/digest')).json().period).toMatchObject({ frequency: 'weekly', start: '2026-11-09T07:00:00.000Z', end: '2026-11-16T07:00:00.000Z' });

      // Friday 2026-11-20: the week that ended Monday 08:00 Paris is due (first run).
      expect(await pump(app)).toBe(1);
      app.clock.set(at('2026-11-23T07:04:59Z'));
      expect(await pump(app)).toBe(0);
      app.clock.set(at('2026-11-23T07:05:00Z'));
      expect(await pump(app)).toBe(1);
      const labels = hook.json<{ data: { period: { label: string } } }>().map((b) => b.data.period.label);
      expect(labels).toEqual(['2026-11-09 08:00 – 2026-11-16 08:00 (Europe/Paris)', '2026-11-16 08:00 – 2026-11-23 08:00 (Europe/Paris)']);
    });
  });
}
