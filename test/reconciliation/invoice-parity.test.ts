import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { DEFAULT_SECRET } from '../support/test-app.js';
import { fixture, signPayload, stripeEvent } from '../support/stripe-events.js';
import { LIVE_KEY, NOV, createMeter, startSync, type SyncApp } from '../sync/sync-harness.js';

/**
 * Invoice parity: a signed `invoice.created` / `invoice.finalized` webhook for a metered
 * subscription is compared, line by line, with the local counter of the line's period; a quantity
 * beyond epsilon opens `invoice_usage_mismatch` (critical while the invoice is a draft). Prices are
 * looked up in the fake Stripe (the current API sends only the price id on a line).
 */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`invoice parity: ${dialect}`, () => {
    let s: SyncApp;
    let meteredPrice: string;
    let seatPrice: string;
    let unmappedPrice: string;
    let acme: string;
    let n = 0;

    const invoice = (status: string, customer: string, lines: { price: string; quantity: number; start?: number; end?: number }[]) => ({
      ...fixture('invoice'),
      id: `in_parity_${++n}`,
      customer,
      status,
      livemode: true,
      lines: {
        object: 'list',
        has_more: false,
        data: lines.map((l, i) => ({
          id: `il_${n}_${i}`,
          object: 'line_item',
          quantity: l.quantity,
          period: { start: (l.start ?? NOV.start) / 1000, end: (l.end ?? NOV.end) / 1000 },
          pricing: { type: 'price_details', price_details: { price: l.price, product: 'prod_api' } },
          parent: { type: 'subscription_item_details', subscription_item_details: { subscription: 'sub_1', subscription_item: `si_${i}`, proration: false } },
        })),
      },
    });
    const deliver = async (type: string, object: Record<string, unknown>, options: { created?: number } = {}) => {
      const created = options.created ?? Math.floor(s.clock.now() / 1000) - 30;
      const payload = JSON.stringify({ ...stripeEvent(type, object, { created }), livemode: true });
      const res = await s.app.server.inject({
        method: 'POST',
        url: '/webhooks/stripe',
        headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, DEFAULT_SECRET, Math.floor(s.clock.now() / 1000)) },
        payload,
      });
      expect(res.statusCode, res.body).toBe(200);
      await s.app.services.reconciliation.drainInvoiceParity();
    };
    const checks = async (invoiceId: string) => (await s.request('GET', `/v1/invoice-parity?invoiceId=${invoiceId}`)).body.checks;
    const mismatches = async (invoiceId: string) => (await s.request('GET', `/v1/anomalies?detector=invoice_usage_mismatch&customer=${invoiceId}`)).body.data;

    beforeAll(async () => {
      s = await startSync(dialect);
      const meter = createMeter(s.fake, LIVE_KEY, 'api_calls', 'sum').id;
      const other = createMeter(s.fake, LIVE_KEY, 'storage_gb', 'sum').id;
      const account = s.fake.account(LIVE_KEY);
      const product = account.createProduct({ name: 'API' }).id;
      meteredPrice = account.createPrice({ currency: 'usd', unit_amount: 1, product, recurring: { interval: 'month', usage_type: 'metered', meter } }).id;
      unmappedPrice = account.createPrice({ currency: 'usd', unit_amount: 1, product, recurring: { interval: 'month', usage_type: 'metered', meter: other } }).id;
      seatPrice = account.createPrice({ currency: 'usd', unit_amount: 1000, product, recurring: { interval: 'month' } }).id;
      expect((await s.request('POST', '/v1/mappings', { metric: 'api_calls', meterEventName: 'api_calls', aggregation: 'sum' })).status).toBe(201);
      acme = await s.mapCustomer('acme');
      await s.ingest([{ customerRef: 'acme', quantity: 1000 }, { customerRef: 'acme', quantity: 500.5 }]);
    });
    afterAll(async () => {
      await s?.close();
    });

    it('finds nothing wrong when the invoice bills what was counted', async () => {
      const inv = invoice('draft', acme, [{ price: meteredPrice, quantity: 1500 }, { price: seatPrice, quantity: 3 }]);
      await deliver('invoice.created', inv);
      const rows = await checks(inv.id);
      expect(rows).toEqual([expect.objectContaining({ lineId: `il_${n}_0`, status: 'ok', customerRef: 'acme', metric: 'api_calls', invoiceQuantity: '1500', local: '1500', drift: '0%' })]);
      expect(await mismatches(inv.id)).toEqual([]);
    });

    it('opens a critical incident for a draft that bills the wrong usage, once per invoice', async () => {
      const inv = invoice('draft', acme, [{ price: meteredPrice, quantity: 1400 }]);
      await deliver('invoice.created', inv);
      expect((await checks(inv.id))[0]).toMatchObject({ status: 'mismatch', invoiceQuantity: '1400', local: '1500', drift: '7.1429%' });
      const [incident] = await mismatches(inv.id);
      expect(incident).toMatchObject({ detector: 'invoice_usage_mismatch', severity: 'critical', status: 'open', historical: false, subject: { type: 'invoice', id: inv.id } });
      expect(incident.summary).toMatch(/still a draft/);

      await deliver('invoice.finalized', { ...inv, status: 'open' });
      expect(await mismatches(inv.id)).toHaveLength(1);
    });

    it('reports lines it cannot compare without raising incidents', async () => {
      const stranger = s.fake.account(LIVE_KEY).createCustomer({ name: 'stranger' }).id;
      const unknown = invoice('draft', stranger, [{ price: meteredPrice, quantity: 7 }]);
      await deliver('invoice.created', unknown);
      expect((await checks(unknown.id))[0]).toMatchObject({ status: 'unknown_customer' });

      const unmapped = invoice('draft', acme, [{ price: unmappedPrice, quantity: 7 }]);
      await deliver('invoice.created', unmapped);
      expect((await checks(unmapped.id))[0]).toMatchObject({ status: 'unmapped' });

      const misaligned = invoice('draft', acme, [{ price: meteredPrice, quantity: 7, start: Date.UTC(2026, 10, 15), end: Date.UTC(2026, 11, 15) }]);
      await deliver('invoice.created', misaligned);
      expect((await checks(misaligned.id))[0]).toMatchObject({ status: 'error', detail: expect.stringMatching(/do not line up/) });
      for (const id of [unknown.id, unmapped.id, misaligned.id]) expect(await mismatches(id)).toEqual([]);
    });

    it('marks a mismatch found in old history as historical (it never notifies)', async () => {
      const inv = invoice('open', acme, [{ price: meteredPrice, quantity: 1 }]);
      await deliver('invoice.finalized', inv, { created: Math.floor(s.clock.now() / 1000) - 3 * 3600 });
      const [incident] = await mismatches(inv.id);
      expect(incident).toMatchObject({ severity: 'warning', historical: true });
    });
  });
}
