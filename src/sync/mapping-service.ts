import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { Store } from '../store/store.js';
import type { MappingAggregation, MappingPatch, MappingRecord } from '../store/sync-store.js';
import type { TenantService } from '../tenants/tenant-service.js';
import { METRIC_PATTERN } from '../metering/ingest-schemas.js';
import { accountKey } from './account-keys.js';
import { incompatibility, type MeterInfo } from './meter-compatibility.js';
import type { PushHealth } from './push-health.js';
import { MeterLookupError, type StripeMeterGateway } from './stripe-meter-gateway.js';
import { invalidMapping, mappingNotFound, meterTaken, stripeUnreachable } from './sync-errors.js';

export interface MappingInput {
  metric: string;
  meterEventName: string;
  meterId?: string | undefined;
  aggregation: MappingAggregation;
  valueKey?: string | undefined;
  customerKey?: string | undefined;
  shadow?: { enabled: boolean; meterEventName?: string | undefined } | undefined;
}

export interface MappingUpdate {
  metric?: string | undefined;
  aggregation?: MappingAggregation | undefined;
  meterEventName?: string | undefined;
  meterId?: string | null | undefined;
  valueKey?: string | undefined;
  customerKey?: string | undefined;
  shadow?: { enabled: boolean; meterEventName?: string | null | undefined } | undefined;
  enabled?: boolean | undefined;
}

export interface MappingView {
  id: string;
  metric: string;
  aggregation: MappingAggregation;
  meterEventName: string;
  meterId: string | null;
  valueKey: string;
  customerKey: string;
  enabled: boolean;
  shadow: { enabled: boolean; meterEventName: string | null; meterId: string | null; active: boolean; warning: string | null };
  createdAt: string;
  updatedAt: string;
}

const EVENT_NAME = /^[\x21-\x7E]{1,100}$/;
const PAYLOAD_KEY = /^[\x21-\x7E]{1,100}$/;
const METER_ID = /^mtr_[A-Za-z0-9_]{1,250}$/;
const METRIC = new RegExp(METRIC_PATTERN);

/**
 * Mappings (metric → Stripe meter). Creating or changing one checks the meter on Stripe with the
 * tenant's key — by id, or by event name — and refuses what the meter cannot represent (see
 * `meter-compatibility.ts`). The metric and aggregation never change (create a new mapping);
 * delete disables, keeping the pushed state.
 */
export class MappingService {
  constructor(
    private readonly store: Store,
    private readonly tenants: TenantService,
    private readonly gateway: StripeMeterGateway,
    private readonly health: PushHealth,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  async create(tenantId: string, input: MappingInput): Promise<MappingView> {
    const problems: string[] = [];
    if (!METRIC.test(input.metric) || input.metric.length > 100) problems.push('metric must be 1 to 100 letters, digits, _ . : / -');
    const draft: MappingRecord = {
      id: this.ids.next('map'),
      tenantId,
      metric: input.metric,
      aggregation: input.aggregation,
      meterEventName: input.meterEventName,
      meterId: input.meterId ?? null,
      valueKey: input.valueKey ?? '',
      customerKey: input.customerKey ?? '',
      shadowEnabled: input.shadow?.enabled ?? false,
      shadowEventName: input.shadow?.meterEventName ?? null,
      shadowMeterId: null,
      enabled: true,
      createdAt: this.clock.now(),
      updatedAt: this.clock.now(),
    };
    const checked = await this.check(draft, { valueKey: input.valueKey, customerKey: input.customerKey }, problems);
    if (!(await this.store.sync.insertMapping(checked))) throw meterTaken(checked.meterEventName);
    return this.view(checked);
  }

  async list(tenantId: string): Promise<MappingView[]> {
    const views: MappingView[] = [];
    for (const m of await this.store.sync.listMappings(tenantId)) views.push(await this.view(m));
    return views;
  }

  async get(tenantId: string, id: string): Promise<MappingView> {
    return this.view(await this.require(tenantId, id));
  }

  async update(tenantId: string, id: string, input: MappingUpdate): Promise<MappingView> {
    const current = await this.require(tenantId, id);
    const problems: string[] = [];
    if (input.metric !== undefined && input.metric !== current.metric) problems.push('metric cannot change: create a new mapping (and delete this one) instead');
    if (input.aggregation !== undefined && input.aggregation !== current.aggregation) problems.push('aggregation cannot change: create a new mapping (and delete this one) instead');
    const meterChanged = input.meterEventName !== undefined && input.meterEventName !== current.meterEventName;
    const draft: MappingRecord = {
      ...current,
      meterEventName: input.meterEventName ?? current.meterEventName,
      // A new event name without a new id means: find the meter by that name.
      meterId: input.meterId !== undefined ? input.meterId : meterChanged ? null : current.meterId,
      valueKey: input.valueKey ?? current.valueKey,
      customerKey: input.customerKey ?? current.customerKey,
      shadowEnabled: input.shadow?.enabled ?? current.shadowEnabled,
      shadowEventName: input.shadow?.meterEventName !== undefined ? input.shadow.meterEventName : current.shadowEventName,
      enabled: input.enabled ?? current.enabled,
      updatedAt: this.clock.now(),
    };
    const checked = draft.enabled ? await this.check(draft, { valueKey: input.valueKey, customerKey: input.customerKey }, problems) : draft;
    if (!draft.enabled && problems.length > 0) throw invalidMapping(problems);
    const patch: MappingPatch = {
      meterEventName: checked.meterEventName,
      meterId: checked.meterId,
      valueKey: checked.valueKey,
      customerKey: checked.customerKey,
      shadowEnabled: checked.shadowEnabled,
      shadowEventName: checked.shadowEventName,
      shadowMeterId: checked.shadowMeterId,
      enabled: checked.enabled,
      updatedAt: checked.updatedAt,
    };
    const updated = await this.store.sync.updateMapping(tenantId, id, patch);
    if (updated === 'conflict') throw meterTaken(checked.meterEventName);
    if (!updated) throw mappingNotFound();
    if (!updated.enabled) await this.health.clearMapping(tenantId, id);
    return this.view(updated);
  }

  /** Disables: nothing more is pushed; what Stripe holds and the push state stay. */
  async disable(tenantId: string, id: string): Promise<MappingView> {
    await this.require(tenantId, id);
    const updated = await this.store.sync.updateMapping(tenantId, id, { enabled: false, updatedAt: this.clock.now() });
    if (!updated || updated === 'conflict') throw mappingNotFound();
    await this.health.clearMapping(tenantId, id);
    return this.view(updated);
  }

  private async require(tenantId: string, id: string): Promise<MappingRecord> {
    const mapping = await this.store.sync.getMapping(tenantId, id);
    if (!mapping) throw mappingNotFound();
    return mapping;
  }

  /** Validates the draft against Stripe; returns it with the meter ids and payload keys resolved. */
  private async check(draft: MappingRecord, given: { valueKey: string | undefined; customerKey: string | undefined }, problems: string[]): Promise<MappingRecord> {
    if (!EVENT_NAME.test(draft.meterEventName)) problems.push('meterEventName must be 1 to 100 printable characters without spaces');
    if (draft.meterId !== null && !METER_ID.test(draft.meterId)) problems.push('meterId must be a Stripe meter id (mtr_…)');
    if (draft.shadowEventName !== null && !EVENT_NAME.test(draft.shadowEventName)) problems.push('shadow.meterEventName must be 1 to 100 printable characters without spaces');
    for (const [name, value] of Object.entries(given)) if (value !== undefined && !PAYLOAD_KEY.test(value)) problems.push(`${name} must be 1 to 100 printable characters without spaces`);
    if (problems.length > 0) throw invalidMapping(problems);

    const live = await accountKey(this.tenants, draft.tenantId, 'live');
    if ('missing' in live) throw invalidMapping([`the meter cannot be checked: ${live.missing.replace(': nothing is pushed', '')}; set it first`]);
    const meter = await this.lookup(live.apiKey, draft.meterId ?? undefined, draft.meterEventName, 'live');
    const out = { ...draft };
    if (!meter) {
      problems.push(`the live Stripe account has no billing meter ${draft.meterId ? `with id ${draft.meterId}` : `with event name "${draft.meterEventName}"`}; create one (formula ${draft.aggregation === 'sum' ? '"sum"' : '"last"'}) or fix the name`);
    } else {
      if (meter.eventName !== draft.meterEventName) problems.push(`Stripe meter ${meter.id} records events named "${meter.eventName}", not "${draft.meterEventName}"`);
      this.checkMeter(draft.aggregation, meter, given, problems, '');
      out.meterId = meter.id;
      out.valueKey = meter.valueKey;
      out.customerKey = meter.customerKey;
    }
    out.shadowMeterId = null;
    if (draft.shadowEnabled) {
      const test = await accountKey(this.tenants, draft.tenantId, 'shadow');
      // Without a test key the mapping is accepted and shadow waits (its status says why).
      if ('apiKey' in test) {
        const shadowName = draft.shadowEventName ?? draft.meterEventName;
        const shadowMeter = await this.lookup(test.apiKey, undefined, shadowName, 'shadow');
        if (!shadowMeter) problems.push(`shadow: the test-mode Stripe account has no billing meter with event name "${shadowName}"`);
        else {
          this.checkMeter(draft.aggregation, shadowMeter, { valueKey: out.valueKey, customerKey: out.customerKey }, problems, 'shadow: ');
          out.shadowMeterId = shadowMeter.id;
        }
      }
    }
    if (problems.length > 0) throw invalidMapping(problems);
    return out;
  }

  private checkMeter(aggregation: MappingAggregation, meter: MeterInfo, given: { valueKey: string | undefined; customerKey: string | undefined }, problems: string[], prefix: string): void {
    const why = incompatibility(aggregation, meter);
    if (why) problems.push(`${prefix}${why}`);
    if (given.valueKey !== undefined && given.valueKey !== '' && given.valueKey !== meter.valueKey)
      problems.push(`${prefix}Stripe meter ${meter.id} reads the value from payload key "${meter.valueKey}", so valueKey "${given.valueKey}" would never be counted`);
    if (given.customerKey !== undefined && given.customerKey !== '' && given.customerKey !== meter.customerKey)
      problems.push(`${prefix}Stripe meter ${meter.id} finds the customer under payload key "${meter.customerKey}", so customerKey "${given.customerKey}" would never match`);
  }

  private async lookup(apiKey: string, meterId: string | undefined, eventName: string, mode: string): Promise<MeterInfo | undefined> {
    try {
      return await this.gateway.findMeter(apiKey, { ...(meterId !== undefined ? { meterId } : {}), eventName });
    } catch (error) {
      if (error instanceof MeterLookupError && error.failure.kind === 'rejected')
        throw invalidMapping([`Stripe refused the ${mode === 'live' ? 'live' : 'test-mode'} key while looking up the meter: ${error.failure.message}`]);
      throw stripeUnreachable('check the meter', error instanceof Error ? error.message : String(error));
    }
  }

  private async view(m: MappingRecord): Promise<MappingView> {
    let warning: string | null = null;
    if (m.shadowEnabled) {
      const key = await accountKey(this.tenants, m.tenantId, 'shadow');
      if ('missing' in key) warning = key.missing;
    }
    return {
      id: m.id,
      metric: m.metric,
      aggregation: m.aggregation,
      meterEventName: m.meterEventName,
      meterId: m.meterId,
      valueKey: m.valueKey,
      customerKey: m.customerKey,
      enabled: m.enabled,
      shadow: { enabled: m.shadowEnabled, meterEventName: m.shadowEnabled ? (m.shadowEventName ?? m.meterEventName) : m.shadowEventName, meterId: m.shadowMeterId, active: m.enabled && m.shadowEnabled && warning === null, warning },
      createdAt: new Date(m.createdAt).toISOString(),
      updatedAt: new Date(m.updatedAt).toISOString(),
    };
  }
}
