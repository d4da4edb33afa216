import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { ADMIN_TOKEN, deliverWebhook } from '../support/test-app.js';
import { useTestApp } from '../support/use-test-app.js';
import { fixture, stripeEvent } from '../support/stripe-events.js';
import type { Trigger } from '../../src/detectors/detector.js';

for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`anomalies and detectors API: ${dialect}`, () => {
    const app = useTestApp(dialect);
    let key: string;
    let otherKey: string;
    let readOnlyKey: string;

    const call = (method: 'GET' | 'POST' | 'PUT', url: string, token = key, payload?: unknown) =>
      app.server.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload !== undefined ? { payload: payload as object } : {}) });

    const trigger = (subjectId: string, at: number, severity: Trigger['severity'] = 'warning', eventIds: string[] = []): Trigger => ({
      subjectType: 'customer',
      subjectId,
      severity,
      summary: `=HYPERLINK("x") summary for ${subjectId}, with "quotes"`,
      figures: { failures: 5 },
      eventIds,
      at,
    });

    beforeAll(async () => {
      key = app.firstStart!.apiKey;
      const other = await app.server.inject({ method: 'POST', url: '/v1/tenants', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, payload: { name: 'other' } });
      otherKey = other.json().apiKey;
      readOnlyKey = (await call('POST', '/v1/api-keys', key, { name: 'ro', scopes: ['read'] })).json().key;

      // One real event as evidence.
      const at = Math.floor(app.clock.now() / 1000);
      const event = stripeEvent('charge.failed', { ...fixture('charge'), id: 'ch_ev', customer: 'cus_a', status: 'failed' }, { created: at, id: 'evt_evidence' });
      expect(await deliverWebhook(app, event)).toBe(200);

      const base = app.clock.now();
      const incidents = app.services.incidents;
      await incidents.applyTrigger('default', 'customer_failure_cluster', trigger('cus_a', base - 3_000, 'warning', ['evt_evidence']), false);
      await incidents.applyTrigger('default', 'customer_failure_cluster', trigger('cus_b', base - 2_000, 'critical'), false);
      await incidents.applyTrigger('default', 'duplicate_charge', trigger('cus_c', base - 1_000, 'info'), true);
    });

    it('lists incidents newest first with filters and a cursor, on both paths', async () => {
      const all = await call('GET', '/v1/anomalies');
      expect(all.statusCode).toBe(200);
      expect(all.json().data.map((i: { subject: { id: string } }) => i.subject.id)).toEqual(['cus_c', 'cus_b', 'cus_a']);
      expect((await call('GET', '/anomalies')).json().data).toHaveLength(3);

      const page1 = (await call('GET', '/v1/anomalies?limit=2')).json();
      expect(page1.data).toHaveLength(2);
      const page2 = (await call('GET', `/v1/anomalies?limit=2&cursor=${page1.nextCursor}`)).json();
      expect(page2.data.map((i: { subject: { id: string } }) => i.subject.id)).toEqual(['cus_a']);
      expect(page2.nextCursor).toBeNull();

      const filtered = (await call('GET', '/v1/anomalies?detector=customer_failure_cluster&severity=critical')).json().data;
      expect(filtered.map((i: { subject: { id: string } }) => i.subject.id)).toEqual(['cus_b']);
      expect((await call('GET', '/v1/anomalies?customer=cus_c')).json().data[0]).toMatchObject({ historical: true, status: 'open', severity: 'info' });
      for (const bad of ['status=bogus', 'severity=huge', 'limit=0', 'since=yesterday', 'cursor=zz', 'nope=1']) {
        expect((await call('GET', `/v1/anomalies?${bad}`)).statusCode, bad).toBe(400);
      }
    });

    it('shows one incident with its evidence events', async () => {
      const [a] = (await call('GET', '/v1/anomalies?customer=cus_a')).json().data;
      const res = await call('GET', `/v1/anomalies/${a.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ id: a.id, detector: 'customer_failure_cluster', evidence: { eventIds: ['evt_evidence'] } });
      expect(res.json().evidenceEvents).toEqual([expect.objectContaining({ id: 'evt_evidence', type: 'charge.failed', customer: 'cus_a', anomalyScore: 70 })]);
      expect((await call('GET', '/v1/anomalies/anm_missing')).statusCode).toBe(404);
      const flagged = (await call('GET', '/v1/billing-events?flagged=true')).json().data;
      expect(flagged).toEqual([expect.objectContaining({ id: 'evt_evidence', flagged: true, anomalyScore: 70 })]);
    });

    it('acknowledges, resolves and marks false positives, with actor and reason', async () => {
      const list = (await call('GET', '/v1/anomalies')).json().data as { id: string; subject: { id: string } }[];
      const id = (s: string) => list.find((i) => i.subject.id === s)!.id;

      const ack = await call('POST', `/v1/anomalies/${id('cus_a')}/acknowledge`, key, {});
      expect(ack.statusCode).toBe(200);
      expect(ack.json()).toMatchObject({ status: 'acknowledged', acknowledgedBy: expect.stringMatching(/^api_key:key_/) });
      const resolved = await call('POST', `/v1/anomalies/${id('cus_a')}/resolve`, key, { reason: 'refunded the customer' });
      expect(resolved.json()).toMatchObject({ status: 'resolved', resolution: { reason: 'refunded the customer' } });
      expect((await call('POST', `/v1/anomalies/${id('cus_a')}/resolve`, key, {})).statusCode).toBe(409);

      expect((await call('POST', `/v1/anomalies/${id('cus_b')}/false-positive`, key, {})).statusCode).toBe(400);
      const fp = await call('POST', `/v1/anomalies/${id('cus_b')}/false-positive`, key, { reason: 'load test', suppressForHours: 2 });
      expect(fp.json()).toMatchObject({ status: 'false_positive', resolution: { reason: 'load test' } });
      // Suppressed for two hours, then the detector may open a new incident for the subject.
      await app.services.incidents.applyTrigger('default', 'customer_failure_cluster', trigger('cus_b', app.clock.now(), 'critical'), false);
      expect((await call('GET', '/v1/anomalies?customer=cus_b')).json().data).toHaveLength(1);
      app.clock.advance(2 * 3_600_000 + 1);
      await app.services.incidents.applyTrigger('default', 'customer_failure_cluster', trigger('cus_b', app.clock.now(), 'critical'), false);
      expect((await call('GET', '/v1/anomalies?customer=cus_b&status=open')).json().data).toHaveLength(1);

      expect((await call('POST', `/v1/anomalies/${id('cus_c')}/acknowledge`, readOnlyKey, {})).statusCode).toBe(403);
      expect((await call('POST', `/v1/anomalies/${id('cus_c')}/acknowledge`, key, { extra: 1 })).statusCode).toBe(400);
    });

    it('exports a date range as CSV, safe for spreadsheets', async () => {
      const since = new Date(app.clock.now() - 86_400_000).toISOString().slice(0, 10);
      const until = new Date(app.clock.now() + 86_400_000).toISOString().slice(0, 10);
      const res = await call('GET', `/v1/anomalies/export.csv?since=${since}&until=${until}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/csv');
      expect(res.headers['content-disposition']).toContain(`anomalies-${since}-${until}.csv`);
      const lines = res.body.trim().split('\r\n');
      expect(lines[0]).toBe('id,detector,subject_type,subject_id,status,severity,historical,first_triggered_at,last_triggered_at,resolved_at,summary,evidence_event_ids');
      expect(lines.length).toBe(5);
      expect(res.body).toContain(`"'=HYPERLINK(""x"") summary for cus_a, with ""quotes"""`);
      expect((await call('GET', '/v1/anomalies/export.csv?since=2026-01-01')).statusCode).toBe(400);
      expect((await call('GET', `/v1/anomalies/export.csv?since=${until}&until=${since}`)).statusCode).toBe(400);
    });

    it('never shows one tenant’s incidents to another', async () => {
      expect((await call('GET', '/v1/anomalies', otherKey)).json().data).toEqual([]);
      const [incident] = (await call('GET', '/v1/anomalies')).json().data;
      expect((await call('GET', `/v1/anomalies/${incident.id}`, otherKey)).statusCode).toBe(404);
      expect((await call('POST', `/v1/anomalies/${incident.id}/resolve`, otherKey, {})).statusCode).toBe(404);
      expect((await call('GET', '/v1/anomalies?tenantId=default', otherKey)).statusCode).toBe(403);
      const csv = await call('GET', '/v1/anomalies/export.csv?since=2000-01-01&until=2100-01-01', otherKey);
      expect(csv.body.trim().split('\r\n')).toHaveLength(1);
    });

    it('lists detectors and validates per-tenant settings', async () => {
      const list = (await call('GET', '/v1/detectors')).json().data as { name: string; enabled: boolean; config: Record<string, unknown> }[];
      expect(list.map((d) => d.name)).toEqual([
        'charge_failure_rate', 'customer_failure_cluster', 'refund_exceeds_charge', 'refund_surge', 'duplicate_charge', 'dispute_spike', 'cancellation_spike',
        'new_subscription_drop', 'revenue_drop', 'webhook_silence', 'webhook_delay', 'silent_lapse', 'negative_invoice', 'currency_mismatch', 'plan_downgrade',
      ]);
      expect(list.every((d) => d.enabled)).toBe(true);
      expect((await call('PUT', '/v1/detectors/customer_failure_cluster', key, { bogusKey: 1 })).statusCode).toBe(400);
      expect((await call('PUT', '/v1/detectors/customer_failure_cluster', key, { enabled: 'yes' })).statusCode).toBe(400);
      expect((await call('PUT', '/v1/detectors/no_such_detector', key, { enabled: false })).statusCode).toBe(404);
      expect((await call('PUT', '/v1/detectors/customer_failure_cluster', readOnlyKey, { enabled: false })).statusCode).toBe(403);
      const off = await call('PUT', '/v1/detectors/customer_failure_cluster', key, { enabled: false });
      expect(off.statusCode).toBe(200);
      expect(off.json()).toMatchObject({ name: 'customer_failure_cluster', enabled: false });
      // Another tenant's settings are untouched.
      const theirs = (await call('GET', '/v1/detectors', otherKey)).json().data.find((d: { name: string }) => d.name === 'customer_failure_cluster');
      expect(theirs.enabled).toBe(true);
    });

    it('backtests stored history without storing or notifying anything', async () => {
      const before = await app.services.store.detectors.listNotifications('default', { limit: 1000 });
      const incidentsBefore = (await call('GET', '/v1/anomalies?limit=500')).json().data.length;
      const res = await call('POST', '/v1/detectors/backtest', key, {
        detector: 'customer_failure_cluster',
        since: new Date(app.clock.now() - 7 * 86_400_000).toISOString(),
        until: new Date(app.clock.now() + 60_000).toISOString(),
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ incidents: expect.any(Array), events: expect.any(Number), hours: expect.any(Number) });
      expect(await app.services.store.detectors.listNotifications('default', { limit: 1000 })).toEqual(before);
      expect((await call('GET', '/v1/anomalies?limit=500')).json().data.length).toBe(incidentsBefore);
      expect((await call('POST', '/v1/detectors/backtest', key, { since: '2026-01-02', until: '2026-01-01' })).statusCode).toBe(400);
      expect((await call('POST', '/v1/detectors/backtest', key, { config: { x: 1 }, since: '2026-01-01', until: '2026-01-02' })).statusCode).toBe(400);
    });
  });
}
