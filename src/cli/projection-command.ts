import type { Command } from 'commander';
import type { ConfigOverrides } from '../config.js';
import { createMetering } from '../metering/create-metering.js';
import { createPricing } from '../pricing/create-pricing.js';
import type { UsageProjection } from '../pricing/projection-result.js';
import { AppError } from '../shared/app-error.js';
import { systemClock } from '../shared/clock.js';
import { createIdGenerator } from '../shared/ids.js';
import { DEFAULT_TENANT_ID } from '../tenants/tenant-service.js';
import type { CliIo } from './cli-io.js';
import { withCliServices } from './open-cli-services.js';

/** `meterwatch projection`: the service behind POST /v1/usage/projection, against the configured store. */
export function registerProjectionCommand(program: Command, io: CliIo, overrides: () => ConfigOverrides): void {
  program
    .command('projection')
    .description('usage so far and projected to the end of the customer’s billing period, with current and projected cost')
    .option('--tenant <id>', 'tenant', DEFAULT_TENANT_ID)
    .requiredOption('--customer <customerRef>', 'the customer')
    .option('--as-of <time>', 'project from this instant instead of now: ISO 8601, YYYY-MM-DD or epoch ms')
    .option('--json', 'print the projection as JSON')
    .action(async (opts: { tenant: string; customer: string; asOf?: string; json?: boolean }) => {
      const projection = await withCliServices(io, overrides(), async ({ config, store }) => {
        if (!(await store.getTenant(opts.tenant))) throw new AppError('not_found', `no tenant "${opts.tenant}"`);
        const metering = createMetering(store, systemClock, createIdGenerator(systemClock), config.metering);
        return createPricing(store, metering.periods, systemClock).projections.project(opts.tenant, { customerRef: opts.customer, asOf: opts.asOf });
      });
      io.out(opts.json ? JSON.stringify(projection, null, 2) : describeProjection(projection));
    });
}

function describeProjection(p: UsageProjection): string {
  const lines = [
    `Projection for ${p.customerRef} as of ${p.asOf}`,
    `  period ${p.period.start} → ${p.period.end} (${p.period.source}), elapsed ${p.period.elapsedFraction}`,
  ];
  for (const m of p.metrics) {
    const how = m.method === 'daily_rate' && m.dailyRate ? `daily_rate ${m.dailyRate.perDay}/day over ${m.dailyRate.days} days` : m.method;
    const cost = m.cost ? `${m.cost.current.amount.formatted} → ${m.cost.projected.amount.formatted}` : 'not priced';
    lines.push(`  ${m.metric} (${m.aggregation}): ${m.quantity} → ${m.projectedQuantity} [${how}]  ${cost}`);
  }
  if (p.metrics.length === 0) lines.push('  no usage and no prices in this period');
  for (const t of p.totals) lines.push(`  total ${t.currency.toUpperCase()}: ${t.current.formatted} now → ${t.projected.formatted} projected`);
  return lines.join('\n');
}
