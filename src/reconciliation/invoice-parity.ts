import type { Logger } from 'pino';
import type { Clock } from '../shared/clock.js';
import type { Store, BillingEventRecord } from '../store/store.js';
import type { ParityCheckRecord } from '../store/reconciliation-store.js';
import type { IncidentService } from '../detectors/incident-service.js';
import type { Trigger } from '../detectors/detector.js';
import { formatPpm, measureDrift } from './drift.js';
import { pushedValue, type MappingDirectory, type ReconcileMapping } from './mapping-directory.js';
import type { StripeMeterReader } from './stripe-meter-reader.js';
import { microToDecimal } from './stripe-value.js';
import { usageLines, type UsageLine } from './invoice-lines.js';

export const INVOICE_USAGE_MISMATCH = 'invoice_usage_mismatch';
export const PARITY_EVENT_TYPES = new Set(['invoice.created', 'invoice.finalized']);

interface TenantKeys {
  stripeApiKey(tenantId: string, mode?: 'live' | 'test'): Promise<string | undefined>;
}

export interface ParityOptions {
  epsilonPpm: number;
  /** Events older than this (Stripe time) or backfilled open historical incidents, which never notify. */
  liveHorizonMs: number;
}

type Json = Record<string, unknown>;

/**
 * When Stripe drafts or finalizes an invoice for a metered subscription, compare each usage line's
 * quantity with the local counter of that line's period, before the customer pays a wrong amount.
 * A difference above epsilon opens an `invoice_usage_mismatch` incident on the invoice (critical
 * while it is still a draft). Runs as a feed consumer: every stored invoice event once, in order.
 */
export class InvoiceParity {
  constructor(
    private readonly store: Store,
    private readonly tenants: TenantKeys,
    private readonly mappings: MappingDirectory,
    private readonly stripe: StripeMeterReader,
    private readonly incidents: IncidentService,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: ParityOptions,
  ) {}

  async handle(events: BillingEventRecord[]): Promise<void> {
    for (const event of events) {
      if (!PARITY_EVENT_TYPES.has(event.type)) continue;
      await this.check(event);
    }
  }

  async check(event: BillingEventRecord): Promise<ParityCheckRecord[]> {
    let invoice: Json;
    try {
      const parsed = JSON.parse(event.payload) as { data?: { object?: Json } };
      invoice = parsed.data?.object ?? {};
    } catch {
      return [];
    }
    const stripeCustomerId = idOf(invoice.customer);
    const invoiceId = idOf(invoice.id);
    if (!stripeCustomerId || !invoiceId) return [];
    const mappings = await this.mappings.list(event.tenantId);
    if (mappings.length === 0) return [];
    const apiKey = await this.keyFor(event.tenantId, event.livemode);
    if (!apiKey) return []; // the mappings push to the other mode's account: its invoices are not ours to compare

    let lines = usageLines(invoice);
    if (isObject(invoice.lines) && invoice.lines.has_more === true) lines = await this.stripe.invoiceLines(apiKey, invoiceId);
    const refs = await this.store.reconciliation.customerRefsForStripeCustomer(event.tenantId, stripeCustomerId);
    const checks: ParityCheckRecord[] = [];
    for (const line of lines) {
      const check = await this.checkLine(event, invoiceId, stripeCustomerId, refs[0] ?? null, line, mappings, apiKey);
      if (!check) continue;
      await this.store.reconciliation.putParityCheck(check);
      checks.push(check);
    }
    const mismatches = checks.filter((c) => c.status === 'mismatch');
    if (mismatches.length > 0) await this.raise(event, invoice, invoiceId, mismatches);
    return checks;
  }

  private async checkLine(
    event: BillingEventRecord,
    invoiceId: string,
    stripeCustomerId: string,
    customerRef: string | null,
    line: UsageLine,
    mappings: ReconcileMapping[],
    apiKey: string,
  ): Promise<ParityCheckRecord | undefined> {
    let meterId = line.embeddedMeterId;
    if (line.metered === false) return undefined;
    if (meterId === null && line.priceId) {
      const price = await this.stripe.price(apiKey, line.priceId).catch((error: unknown) => {
        this.logger.warn({ err: error, tenantId: event.tenantId, priceId: line.priceId }, 'invoice parity: could not read a price');
        return undefined;
      });
      if (!price?.metered || price.meterId === null) return undefined; // licensed seats or legacy usage records: not ours
      meterId = price.meterId;
    }
    if (meterId === null) return undefined;
    const mapping = await this.mappingFor(apiKey, meterId, mappings);
    const base: ParityCheckRecord = {
      tenantId: event.tenantId,
      invoiceId,
      lineId: line.lineId,
      eventId: event.eventId,
      customerRef,
      stripeCustomerId,
      mappingId: mapping?.id ?? null,
      metric: mapping?.metric ?? null,
      priceId: line.priceId,
      periodStart: line.periodStart,
      periodEnd: line.periodEnd,
      invoiceMicro: line.quantityMicro,
      localMicro: null,
      driftPpm: null,
      status: 'ok',
      detail: null,
      checkedAt: this.clock.now(),
    };
    if (!mapping) return { ...base, status: 'unmapped', detail: `no enabled mapping pushes to meter ${meterId}` };
    if (!customerRef) return { ...base, status: 'unknown_customer', detail: `no local customer has stripeCustomerId ${stripeCustomerId}` };

    const counters = await this.store.metering.snapshot((reader) =>
      reader.listCounters(event.tenantId, { metric: mapping.metric, customerRef, overlapsFrom: line.periodStart, overlapsTo: line.periodEnd, limit: 10 }),
    );
    const aligned = counters.find((c) => c.periodStart === line.periodStart);
    if (!aligned && counters.length > 0) {
      return {
        ...base,
        status: 'error',
        detail: `the local periods of ${customerRef} do not line up with the invoice period; map the customer to its Stripe customer so periods follow the subscription`,
      };
    }
    const localMicro = aligned ? pushedValue(mapping.aggregation, aligned) : 0n;
    const drift = measureDrift(localMicro, line.quantityMicro, this.options.epsilonPpm);
    return { ...base, localMicro, driftPpm: drift.ppm, status: drift.drifted ? 'mismatch' : 'ok' };
  }

  private async mappingFor(apiKey: string, meterId: string, mappings: ReconcileMapping[]): Promise<ReconcileMapping | undefined> {
    const byId = mappings.find((m) => m.meterId === meterId);
    if (byId) return byId;
    const meter = await this.stripe.meter(apiKey, meterId).catch(() => null);
    return meter ? mappings.find((m) => m.meterId === null && m.meterEventName === meter.eventName) : undefined;
  }

  /** The key of the account the event came from: the live slot when its mode matches, else nothing. */
  private async keyFor(tenantId: string, livemode: boolean): Promise<string | undefined> {
    const key = await this.tenants.stripeApiKey(tenantId, 'live');
    if (!key) return undefined;
    return key.includes('_live_') === livemode ? key : undefined;
  }

  private async raise(event: BillingEventRecord, invoice: Json, invoiceId: string, mismatches: ParityCheckRecord[]): Promise<void> {
    const worst = mismatches.reduce((a, b) => ((b.driftPpm ?? 0) > (a.driftPpm ?? 0) ? b : a));
    const draft = invoice.status === 'draft';
    const trigger: Trigger = {
      subjectType: 'invoice',
      subjectId: invoiceId,
      severity: draft ? 'critical' : 'warning',
      summary: `Invoice ${invoiceId} bills ${microToDecimal(worst.invoiceMicro)} ${worst.metric} for ${worst.customerRef}, Meterwatch counted ${microToDecimal(worst.localMicro ?? 0n)} (${formatPpm(worst.driftPpm ?? 0)} apart)${draft ? ' — still a draft: fix it before it finalizes' : ''}`,
      figures: {
        invoiceStatus: typeof invoice.status === 'string' ? invoice.status : 'unknown',
        customerRef: worst.customerRef ?? '',
        stripeCustomerId: worst.stripeCustomerId,
        metric: worst.metric ?? '',
        invoiceQuantity: microToDecimal(worst.invoiceMicro),
        local: microToDecimal(worst.localMicro ?? 0n),
        drift: formatPpm(worst.driftPpm ?? 0),
        epsilon: formatPpm(this.options.epsilonPpm),
        mismatchedLines: mismatches.length,
        periodStart: new Date(worst.periodStart).toISOString(),
        periodEnd: new Date(worst.periodEnd).toISOString(),
      },
      eventIds: [event.eventId],
      at: event.created * 1000,
    };
    const historical = event.source === 'backfill' || event.created * 1000 < this.clock.now() - this.options.liveHorizonMs;
    await this.incidents.applyTrigger(event.tenantId, INVOICE_USAGE_MISMATCH, trigger, historical);
  }
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const idOf = (v: unknown): string | null => (typeof v === 'string' && v ? v : isObject(v) && typeof v.id === 'string' ? v.id : null);
