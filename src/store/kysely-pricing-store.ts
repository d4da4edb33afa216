import { sql, type Kysely, type Selectable } from 'kysely';
import type { Database } from './schema.js';
import type { MetricPriceRecord, PriceSource, PricingStore, UsageAggregation } from './pricing-store.js';

type Guard = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

/** The tenant's default plan is stored under the empty customer ref (see 0005-pricing). */
const DEFAULT_PLAN = '';
const refOf = (customerRef: string | null) => customerRef ?? DEFAULT_PLAN;

export class KyselyPricingStore implements PricingStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly guard: Guard,
  ) {}

  putPrice(price: MetricPriceRecord): Promise<MetricPriceRecord> {
    return this.guard('putPrice', async () => {
      const row = await this.db
        .insertInto('metric_prices')
        .values(toRow(price))
        .onConflict((oc) =>
          oc.columns(['tenant_id', 'customer_ref', 'metric']).doUpdateSet((eb) => ({
            aggregation: eb.ref('excluded.aggregation'),
            currency: eb.ref('excluded.currency'),
            price_config: eb.ref('excluded.price_config'),
            source: eb.ref('excluded.source'),
            stripe_price_id: eb.ref('excluded.stripe_price_id'),
            updated_at: eb.ref('excluded.updated_at'),
            updated_by: eb.ref('excluded.updated_by'),
          })),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      return fromRow(row);
    });
  }

  getPrice(tenantId: string, customerRef: string | null, metric: string): Promise<MetricPriceRecord | undefined> {
    return this.guard('getPrice', async () => {
      const row = await this.db
        .selectFrom('metric_prices')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('customer_ref', '=', refOf(customerRef))
        .where('metric', '=', metric)
        .executeTakeFirst();
      return row && fromRow(row);
    });
  }

  listPrices(tenantId: string, customerRef: string | null): Promise<MetricPriceRecord[]> {
    return this.guard('listPrices', async () => {
      const rows = await this.db
        .selectFrom('metric_prices')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('customer_ref', '=', refOf(customerRef))
        .orderBy('metric')
        .execute();
      return rows.map(fromRow);
    });
  }

  listPlanPrices(tenantId: string, customerRef: string): Promise<MetricPriceRecord[]> {
    return this.guard('listPlanPrices', async () => {
      const rows = await this.db
        .selectFrom('metric_prices')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('customer_ref', 'in', [DEFAULT_PLAN, customerRef])
        .orderBy('metric')
        .orderBy('customer_ref')
        .execute();
      return rows.map(fromRow);
    });
  }

  deletePrice(tenantId: string, customerRef: string | null, metric: string): Promise<boolean> {
    return this.guard('deletePrice', async () => {
      const result = await this.db
        .deleteFrom('metric_prices')
        .where('tenant_id', '=', tenantId)
        .where('customer_ref', '=', refOf(customerRef))
        .where('metric', '=', metric)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  isKnownCustomer(tenantId: string, customerRef: string): Promise<boolean> {
    return this.guard('isKnownCustomer', async () => {
      // Each EXISTS is one seek: the metering_customers and metric_prices primary keys, and the
      // usage_counters_customer index (tenant_id, customer_ref, …).
      const { rows } = await sql<{ known: unknown }>`select (
          exists (select 1 from metering_customers where tenant_id = ${tenantId} and customer_ref = ${customerRef})
          or exists (select 1 from metric_prices where tenant_id = ${tenantId} and customer_ref = ${customerRef})
          or exists (select 1 from usage_counters where tenant_id = ${tenantId} and customer_ref = ${customerRef})
        ) as known`.execute(this.db);
      const known = rows[0]?.known;
      return known === true || known === 1 || known === '1';
    });
  }
}

function toRow(p: MetricPriceRecord): Selectable<Database['metric_prices']> {
  return {
    tenant_id: p.tenantId,
    customer_ref: refOf(p.customerRef),
    metric: p.metric,
    aggregation: p.aggregation,
    currency: p.currency,
    price_config: p.priceConfig,
    source: p.source,
    stripe_price_id: p.stripePriceId,
    created_at: p.createdAt,
    updated_at: p.updatedAt,
    updated_by: p.updatedBy,
  };
}

function fromRow(row: Selectable<Database['metric_prices']>): MetricPriceRecord {
  return {
    tenantId: row.tenant_id,
    customerRef: row.customer_ref === DEFAULT_PLAN ? null : row.customer_ref,
    metric: row.metric,
    aggregation: row.aggregation as UsageAggregation,
    currency: row.currency,
    priceConfig: row.price_config,
    source: row.source as PriceSource,
    stripePriceId: row.stripe_price_id,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    updatedBy: row.updated_by,
  };
}
