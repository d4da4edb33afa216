import type { Command } from 'commander';
import type { ConfigOverrides } from '../config.js';
import { IncidentService } from '../detectors/incident-service.js';
import { createLogger } from '../ops/create-logger.js';
import { createReconciliation } from '../reconciliation/create-reconciliation.js';
import { periodRange } from '../reconciliation/period-query.js';
import { correctionView, resultView, runView } from '../reconciliation/reconciliation-view.js';
import { syncMappingDirectory } from '../reconciliation/sync-mapping-directory.js';
import { AppError } from '../shared/app-error.js';
import { systemClock } from '../shared/clock.js';
import { createIdGenerator } from '../shared/ids.js';
import { DEFAULT_TENANT_ID } from '../tenants/tenant-service.js';
import { CliExit, type CliIo } from './cli-io.js';
import { withCliServices } from './open-cli-services.js';

/**
 * `meterwatch reconcile`: one reconciliation run now, as `POST /v1/reconciliation/run` does; exit 1
 * when a drift is found (for cron and CI), 2 when Stripe could not be asked for some totals.
 */
export function registerReconcileCommand(program: Command, io: CliIo, overrides: () => ConfigOverrides): void {
  program
    .command('reconcile')
    .description('compare local usage totals with Stripe’s meter event summaries now (exit 1 on drift)')
    .option('--tenant <id>', 'tenant', DEFAULT_TENANT_ID)
    .option('--period <period>', 'current, YYYY-MM, or an instant (default: periods of the last 35 days)')
    .option('--mapping <id>', 'only this mapping')
    .option('--customer <customerRef>', 'only this customer')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { tenant: string; period?: string; mapping?: string; customer?: string; json?: boolean }) => {
      const report = await withCliServices(io, overrides(), async ({ config, store, tenants }) => {
        if (!(await store.getTenant(opts.tenant))) throw new AppError('not_found', `no tenant "${opts.tenant}"`);
        const ids = createIdGenerator(systemClock);
        const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
        const incidents = new IncidentService(store, ids, systemClock, { resolveAfterMs: config.detectors.resolveAfterMs, suppressForMs: config.detectors.suppressForMs });
        const { service } = createReconciliation({ config, store, tenants, mappings: syncMappingDirectory(store), incidents, ids, clock: systemClock, logger });
        const range = periodRange({ period: opts.period }, systemClock.now());
        return service.run(opts.tenant, {
          trigger: 'cli',
          ...range,
          ...(opts.mapping ? { mappingId: opts.mapping } : {}),
          ...(opts.customer ? { customerRef: opts.customer } : {}),
        });
      });
      const view = { run: runView(report.run), results: report.results.map(resultView), corrections: report.corrections.map(correctionView) };
      if (opts.json) io.out(JSON.stringify(view, null, 2));
      else {
        io.out(`Reconciliation ${view.run.id}: ${view.run.checked} checked, ${view.run.drifted} drifting, ${view.run.failed} could not be compared`);
        for (const r of view.results.filter((x) => x.status !== 'ok')) {
          io.out(`  ${r.status.padEnd(5)} ${r.customerRef} ${r.metric} ${r.periodStart.slice(0, 10)}…${r.periodEnd.slice(0, 10)}: local ${r.local}, Stripe ${r.stripe ?? '?'}${r.drift ? ` (${r.drift})` : ''}${r.error ? ` — ${r.error}` : ''}`);
        }
        for (const c of view.corrections) io.out(`  proposed ${c.id}: ${c.action}`);
      }
      if (report.run.drifted > 0) throw new CliExit(1);
      if (report.run.failed > 0) throw new CliExit(2);
    });
}
