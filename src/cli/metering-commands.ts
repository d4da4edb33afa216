import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { ConfigOverrides } from '../config.js';
import { createMetering } from '../metering/create-metering.js';
import type { ReplayReport } from '../metering/replay-service.js';
import type { ImportView } from '../metering/usage-views.js';
import { systemClock } from '../shared/clock.js';
import { createIdGenerator } from '../shared/ids.js';
import { AppError } from '../shared/app-error.js';
import { DEFAULT_TENANT_ID } from '../tenants/tenant-service.js';
import { CliExit, type CliIo } from './cli-io.js';
import { withCliServices } from './open-cli-services.js';

/**
 * `meterwatch import FILE` and `meterwatch replay`: the same services as the HTTP API, run against
 * the configured store. The import streams the file (any size, bounded memory) with a progress bar.
 */
export function registerMeteringCommands(program: Command, io: CliIo, overrides: () => ConfigOverrides): void {
  program
    .command('import <file>')
    .description('import usage events from a JSONL or CSV file (same validation and dedup as the ingest API); exit 1 if any record was rejected or conflicted')
    .option('--tenant <id>', 'tenant the events belong to', DEFAULT_TENANT_ID)
    .option('--format <format>', 'jsonl or csv (default: from the file extension)')
    .option('--json', 'print the summary as JSON')
    .action(async (file: string, opts: { tenant: string; format?: string; json?: boolean }) => {
      const filePath = path.resolve(io.cwd, file);
      const format = opts.format ?? (/\.csv$/i.test(filePath) ? 'csv' : 'jsonl');
      if (format !== 'jsonl' && format !== 'csv') throw new AppError('validation_failed', '--format must be jsonl or csv');
      let size: number;
      try {
        size = fs.statSync(filePath).size;
      } catch {
        throw new AppError('not_found', `cannot read ${file}`);
      }
      const summary = await withCliServices(io, overrides(), async ({ config, store }) => {
        if (!(await store.getTenant(opts.tenant))) throw new AppError('not_found', `no tenant "${opts.tenant}"`);
        const metering = createMetering(store, systemClock, createIdGenerator(systemClock), config.metering);
        const started = performance.now();
        return metering.imports.run(opts.tenant, fs.createReadStream(filePath, { highWaterMark: 256 * 1024 }), {
          format,
          sourceName: path.basename(filePath),
          actor: 'cli',
          onProgress: (view) => io.progress?.(progressLine(view, size, performance.now() - started), view.status !== 'running'),
        });
      });
      io.out(opts.json ? JSON.stringify(summary, null, 2) : describeImport(summary));
      if (summary.status !== 'completed' || summary.rejected > 0 || summary.conflicts > 0) throw new CliExit(1);
    });

  program
    .command('replay')
    .description('re-fold the usage ledger and compare every counter (dry run: exit 1 when something differs); --apply repairs')
    .option('--tenant <id>', 'tenant', DEFAULT_TENANT_ID)
    .option('--since <time>', 'counters whose period overlaps [since, until): ISO 8601, YYYY-MM-DD or epoch ms')
    .option('--until <time>', 'see --since')
    .option('--metric <metric>')
    .option('--customer <customerRef>')
    .option('--apply', 'repair the counters that differ (default: dry run, writes nothing)')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { tenant: string; since?: string; until?: string; metric?: string; customer?: string; apply?: boolean; json?: boolean }) => {
      const report = await withCliServices(io, overrides(), async ({ config, store }) => {
        if (!(await store.getTenant(opts.tenant))) throw new AppError('not_found', `no tenant "${opts.tenant}"`);
        const metering = createMetering(store, systemClock, createIdGenerator(systemClock), config.metering);
        return metering.replay.replay(opts.tenant, { since: opts.since, until: opts.until, metric: opts.metric, customerRef: opts.customer, dryRun: !opts.apply });
      });
      io.out(opts.json ? JSON.stringify(report, null, 2) : describeReplay(report));
      if (report.dryRun && report.differenceCount > 0) throw new CliExit(1);
    });
}

const BAR = 30;

function progressLine(view: ImportView, size: number, elapsedMs: number): string {
  const share = size > 0 ? Math.min(1, view.bytesRead / size) : 1;
  const filled = Math.round(share * BAR);
  const rate = elapsedMs > 0 ? Math.round((view.records / elapsedMs) * 1000) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${view.records.toLocaleString('en-US')} records (${rate.toLocaleString('en-US')}/s)  accepted ${view.accepted.toLocaleString('en-US')}  duplicate ${view.duplicates.toLocaleString('en-US')}  rejected ${view.rejected.toLocaleString('en-US')}`;
}

function describeImport(v: ImportView): string {
  const lines = [
    `Import ${v.operationId} (${v.sourceName ?? v.format}): ${v.status}${v.error ? ` — ${v.error}` : ''}`,
    `  records ${v.records}, accepted ${v.accepted} (late ${v.late}), duplicates ${v.duplicates}, conflicts ${v.conflicts}, rejected ${v.rejected}`,
  ];
  for (const [code, reason] of Object.entries(v.reasons)) {
    lines.push(`  ${code}: ${reason.count}`);
    for (const example of reason.examples) lines.push(`    record ${example.record}: ${example.message}`);
  }
  if (v.late > 0) lines.push(`  ${v.late} late event(s) are pending adjustments: GET /v1/adjustments?status=pending`);
  return lines.join('\n');
}

function describeReplay(r: ReplayReport): string {
  const lines = [
    `Replay (${r.dryRun ? 'dry run' : 'repair'}): ${r.countersChecked} counters and ${r.rollupsChecked} hourly rollups checked against ${r.eventsRead} ledger events`,
    r.differenceCount === 0 ? '  every counter equals the fold of its ledger events and approved adjustments' : `  ${r.differenceCount} difference(s)${r.dryRun ? '' : `, ${r.repaired} repaired`}:`,
  ];
  for (const d of r.differences) {
    if (d.kind === 'counter') {
      lines.push(`    counter ${d.metric} / ${d.customerRef} [${d.period.start} → ${d.period.end}): stored ${d.stored ? `${d.stored.sum} (${d.stored.count} events)` : 'none'}, ledger ${d.folded ? `${d.folded.sum} (${d.folded.count} events)` : 'none'}`);
    } else {
      lines.push(`    rollup ${d.metric} / ${d.customerRef} @ ${d.hourStart}: stored ${d.stored ? d.stored.sum : 'none'}, ledger ${d.folded ? d.folded.sum : 'none'}`);
    }
  }
  if (r.differenceCount > r.differences.length) lines.push(`    … and ${r.differenceCount - r.differences.length} more (use --json or narrow the scope)`);
  if (r.pendingLateEvents.count > 0) lines.push(`  ${r.pendingLateEvents.count} late event(s) pending as adjustments (GET /v1/adjustments?status=pending)`);
  return lines.join('\n');
}
