import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { createStore } from '../../src/store/create-store.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import type { AlertChannelRecord, AlertDeliveryRecord } from '../../src/store/alert-store.js';
import type { IncidentRecord } from '../../src/store/detector-store.js';
import { DIALECTS, dialectEnabled, freshDatabase, type FreshDatabase } from '../support/dialects.js';

const NOW = 1_800_000_000_000;

/** The outbox's guarantees, held to the same behaviour on both databases. */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`alert store: ${dialect}`, () => {
    let db: FreshDatabase;
    let store: KyselyStore;
    let seq = 0;
    const id = (p: string) => `${p}_${String(++seq).padStart(6, '0')}`;

    beforeAll(async () => {
      db = await freshDatabase(dialect);
      store = createStore(parseConfig({ DATABASE_URL: db.databaseUrl, MW_DATA_DIR: db.dataDir }).database);
      // Up to the detectors only: a notification recorded before alerting existed must not be replayed.
      const migrator = new Migrator({ db: store.db, provider: migrationProvider(dialect) });
      expect((await migrator.migrateTo('0002-detectors')).error).toBeUndefined();
      await store.insertTenant({ id: 't1', name: 't1', webhookTokenHash: 'h1', webhookTokenEnc: 'e1', webhookSecretsEnc: null, stripeApiKeyEnc: null, stripeTestApiKeyEnc: null, createdAt: 1, updatedAt: 1 });
      await store.detectors.insertIncident(incident('anm_old'));
      await store.detectors.insertNotification({ id: 'ntf_old', tenantId: 't1', incidentId: 'anm_old', detector: 'refund_surge', kind: 'open', severity: 'warning', dedupeKey: 'old', createdAt: 5 });
      await store.migrate();
    });
    afterAll(async () => {
      await store?.close();
      await db?.cleanup();
    });

    function incident(incidentId: string): IncidentRecord {
      return {
        id: incidentId, tenantId: 't1', detector: 'refund_surge', subjectType: 'tenant', subjectId: incidentId, status: 'open', severity: 'warning', historical: false,
        summary: 's', figures: {}, evidence: [], firstTriggeredAt: 1, lastTriggeredAt: 1, openedAt: 1, updatedAt: 1, clearSince: null, acknowledgedAt: null,
        acknowledgedBy: null, resolvedAt: null, resolutionActor: null, resolutionReason: null, activeKey: incidentId,
      };
    }

    async function channel(patch: Partial<AlertChannelRecord> = {}): Promise<AlertChannelRecord> {
      const c: AlertChannelRecord = {
        id: id('ach'), tenantId: 't1', type: 'webhook', name: 'c', configEnc: 'v1.x', minSeverity: 'info', detectors: null, sendResolved: true, sendDigests: true,
        enabled: true, disabledReason: null, consecutiveFailures: 0, failingSince: null, blockedUntil: null, lastSuccessAt: null, lastFailureAt: null, lastError: null,
        createdAt: NOW, updatedAt: NOW, ...patch,
      };
      await store.alerts.insertChannel(c);
      return c;
    }

    const delivery = (channelId: string, patch: Partial<AlertDeliveryRecord> = {}): AlertDeliveryRecord => ({
      id: id('adl'), tenantId: 't1', channelId, sourceKey: id('ntf:x'), kind: 'incident', incidentId: null, message: '{}', status: 'pending', attempts: 0,
      nextAttemptAt: NOW, leaseToken: null, expiresAt: NOW + 86_400_000, lastError: null, lastStatusCode: null, createdAt: NOW, updatedAt: NOW, deliveredAt: null, ...patch,
    });

    it('marks notifications recorded before the alerts migration as already fanned out', async () => {
      expect(await store.alerts.listPendingNotifications(10)).toEqual([]);
    });

    it('fans a notification out once, even when two workers do it at the same moment', async () => {
      await store.detectors.insertIncident(incident('anm_1'));
      await store.detectors.insertNotification({ id: 'ntf_1', tenantId: 't1', incidentId: 'anm_1', detector: 'refund_surge', kind: 'open', severity: 'warning', dedupeKey: 'k1', createdAt: NOW });
      const [a, b] = [await channel(), await channel()];
      expect((await store.alerts.listPendingNotifications(10)).map((n) => n.id)).toEqual(['ntf_1']);
      const make = () => [a, b].map((c) => delivery(c.id, { sourceKey: 'ntf:ntf_1', incidentId: 'anm_1' }));
      const created = await Promise.all([store.alerts.fanOutNotification('t1', 'ntf_1', make(), NOW), store.alerts.fanOutNotification('t1', 'ntf_1', make(), NOW)]);
      expect(created[0]! + created[1]!).toBe(2);
      expect(await store.alerts.fanOutNotification('t1', 'ntf_1', make(), NOW)).toBe(0);
      expect(await store.alerts.listDeliveries('t1', { incidentId: 'anm_1', limit: 10 })).toHaveLength(2);
      expect(await store.alerts.listPendingNotifications(10)).toEqual([]);
      await store.alerts.cancelChannelDeliveries('t1', a.id, 'cleanup', NOW);
      await store.alerts.cancelChannelDeliveries('t1', b.id, 'cleanup', NOW);
    });

    it('never lets two workers claim the same delivery, and a lost claim cannot write', async () => {
      const c = await channel();
      const rows = Array.from({ length: 12 }, () => delivery(c.id));
      await store.alerts.recordDigest({ id: id('dig'), tenantId: 't1', frequency: 'hourly', periodStart: 1, periodEnd: 2, outcome: 'sent', createdAt: NOW }, rows);
      const [x, y] = await Promise.all([store.alerts.claimDeliveries(NOW, 50, NOW + 1_000, 'wx'), store.alerts.claimDeliveries(NOW, 50, NOW + 1_000, 'wy')]);
      const ids = [...x, ...y].map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.sort()).toEqual(rows.map((r) => r.id).sort());

      const first = x[0] ?? y[0]!;
      const owner = x.length > 0 ? 'wx' : 'wy';
      expect(await store.alerts.completeDelivery('t1', first.id, 'intruder', { status: 'delivered', attempted: true }, NOW)).toBe(false);
      // The lease runs out: another worker takes it over, and the first worker's late answer is ignored.
      const retaken = await store.alerts.claimDeliveries(NOW + 1_000, 50, NOW + 2_000, 'wz');
      expect(retaken.map((d) => d.id)).toContain(first.id);
      expect(await store.alerts.completeDelivery('t1', first.id, owner, { status: 'delivered', attempted: true }, NOW)).toBe(false);
      expect(await store.alerts.completeDelivery('t1', first.id, 'wz', { status: 'delivered', attempted: true, statusCode: 200 }, NOW + 1_500)).toBe(true);
      expect(await store.alerts.getDelivery('t1', first.id)).toMatchObject({ status: 'delivered', attempts: 1, deliveredAt: NOW + 1_500, leaseToken: null, lastStatusCode: 200 });
      expect(await store.alerts.claimDeliveries(NOW + 10_000, 50, NOW + 20_000, 'again')).not.toContainEqual(expect.objectContaining({ id: first.id }));
      await store.alerts.cancelChannelDeliveries('t1', c.id, 'cleanup', NOW);
    });

    it('keeps a resolve behind its open on the same channel, and skips channels in backoff', async () => {
      const c = await channel();
      const open = delivery(c.id, { incidentId: 'anm_o', nextAttemptAt: NOW + 60_000, createdAt: NOW });
      const resolve = delivery(c.id, { incidentId: 'anm_o', nextAttemptAt: NOW, createdAt: NOW + 1 });
      const other = delivery(c.id, { incidentId: 'anm_p', nextAttemptAt: NOW, createdAt: NOW + 2 });
      await store.alerts.recordDigest({ id: id('dig'), tenantId: 't1', frequency: 'hourly', periodStart: 3, periodEnd: 4, outcome: 'sent', createdAt: NOW }, [open, resolve, other]);
      expect((await store.alerts.claimDeliveries(NOW, 10, NOW + 1_000, 'w1')).map((d) => d.id)).toEqual([other.id]);
      await store.alerts.completeDelivery('t1', other.id, 'w1', { status: 'delivered', attempted: true }, NOW);
      const [claimedOpen] = await store.alerts.claimDeliveries(NOW + 60_000, 10, NOW + 61_000, 'w2');
      expect(claimedOpen!.id).toBe(open.id);
      await store.alerts.completeDelivery('t1', open.id, 'w2', { status: 'delivered', attempted: true }, NOW + 60_000);
      expect((await store.alerts.claimDeliveries(NOW + 60_000, 10, NOW + 61_000, 'w3')).map((d) => d.id)).toEqual([resolve.id]);
      await store.alerts.completeDelivery('t1', resolve.id, 'w3', { status: 'pending', attempted: false, nextAttemptAt: NOW + 60_000 }, NOW + 60_000);

      await store.alerts.updateChannel('t1', c.id, { blockedUntil: NOW + 120_000, updatedAt: NOW });
      expect(await store.alerts.claimDeliveries(NOW + 119_999, 10, NOW + 200_000, 'w4')).toEqual([]);
      expect((await store.alerts.claimDeliveries(NOW + 120_000, 10, NOW + 200_000, 'w5')).map((d) => d.id)).toEqual([resolve.id]);
      await store.alerts.cancelChannelDeliveries('t1', c.id, 'cleanup', NOW);
    });

    it('crosses the failing threshold for exactly one caller, and a success reports the recovery once', async () => {
      const c = await channel();
      const failure = { error: 'HTTP 500', counts: true, blockedUntil: NOW + 1_000, failingAfter: 5 };
      const results = await Promise.all(Array.from({ length: 8 }, () => store.alerts.recordChannelFailure('t1', c.id, failure, NOW)));
      expect(results.filter((r) => r.becameFailing)).toHaveLength(1);
      expect(await store.alerts.getChannel('t1', c.id)).toMatchObject({ consecutiveFailures: 8, failingSince: NOW, lastError: 'HTTP 500', blockedUntil: NOW + 1_000 });
      const throttled = await store.alerts.recordChannelFailure('t1', c.id, { ...failure, counts: false }, NOW);
      expect(throttled.channel!.consecutiveFailures).toBe(8);
      expect(await store.alerts.recordChannelSuccess('t1', c.id, NOW + 5)).toEqual({ recovered: true });
      expect(await store.alerts.recordChannelSuccess('t1', c.id, NOW + 6)).toEqual({ recovered: false });
      expect(await store.alerts.getChannel('t1', c.id)).toMatchObject({ consecutiveFailures: 0, failingSince: null, blockedUntil: null, lastSuccessAt: NOW + 6 });
    });

    it('records each digest period once, and prunes finished rows', async () => {
      const c = await channel();
      const digest = { id: id('dig'), tenantId: 't1', frequency: 'daily' as const, periodStart: 100, periodEnd: 200, outcome: 'sent' as const, createdAt: 10 };
      expect(await store.alerts.recordDigest(digest, [delivery(c.id, { kind: 'digest', createdAt: 10 })])).toBe(true);
      expect(await store.alerts.recordDigest({ ...digest, id: id('dig') }, [delivery(c.id, { kind: 'digest', createdAt: 10 })])).toBe(false);
      expect(await store.alerts.hasDigest('t1', 'daily', 100)).toBe(true);
      expect(await store.alerts.hasDigest('t1', 'weekly', 100)).toBe(false);
      expect(await store.alerts.listDeliveries('t1', { channelId: c.id, limit: 10 })).toHaveLength(1);
      // Pending rows are kept whatever their age; finished ones go.
      expect(await store.alerts.prune(11)).toMatchObject({ deliveries: 0, digests: 1 });
      await store.alerts.cancelChannelDeliveries('t1', c.id, 'done', 20);
      expect((await store.alerts.prune(11)).deliveries).toBe(1);
    });

    it('deletes a channel and cancels what it still had to send', async () => {
      const c = await channel();
      const d = delivery(c.id);
      await store.alerts.recordDigest({ id: id('dig'), tenantId: 't1', frequency: 'hourly', periodStart: 9, periodEnd: 10, outcome: 'sent', createdAt: NOW }, [d]);
      expect(await store.alerts.deleteChannel('t2', c.id, NOW)).toBe(false);
      expect(await store.alerts.deleteChannel('t1', c.id, NOW)).toBe(true);
      expect(await store.alerts.getDelivery('t1', d.id)).toMatchObject({ status: 'canceled', lastError: 'channel deleted' });
      expect(await store.alerts.getDelivery('t2', d.id)).toBeUndefined();
    });
  });
}
