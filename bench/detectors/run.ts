/**
 * `npm run bench:detectors` — detector quality on realistic synthetic Stripe traffic.
 *
 * Seven tenants (four clean, three with injected anomalies of every detector kind) over 35+ days of
 * simulated time are fed to the real Meterwatch as live webhooks; the detector engine runs as in
 * production (drain after every step, schedule every hour). Prints per-detector recall and
 * precision, incidents per clean tenant-day, every injection with its detection time, and every
 * false or late incident. PASS needs every injected anomaly found and no incident on clean traffic.
 * It is a benchmark: the exit code is 0 either way (1 only if the run itself breaks).
 *
 * Options: --seed=<text> (default "meterwatch"), --days=<n> (default 36), --step=<minutes> (default 15),
 * --intake=signed|store (default signed: Stripe-signed bodies through the webhook intake),
 * --charge-refund-list (charges carry their refunds list, as on API versions before 2022-11-15),
 * --keep (keep the SQLite data directory). The store is used as in production (no bench-only shortcuts).
 */
import { MIN_DAYS } from './inject/plan.js';
import { OBJECT_OPTIONS } from './generator/objects.js';
import { detectorTable, falseByWeekTable, injectionTable, misfireTable, staleLine, trafficTable } from './report.js';
import { score } from './score.js';
import { simulate } from './sim.js';

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

async function main(): Promise<void> {
  const seed = option('seed') ?? 'meterwatch';
  const days = Math.max(1, Math.round(Number(option('days') ?? 36)));
  const stepMinutes = Math.max(1, Math.min(60, Number(option('step') ?? 15)));
  const intake = option('intake') === 'store' ? 'store' : 'signed';
  if (60 % stepMinutes !== 0) throw new Error('--step must divide 60');
  const keepData = process.argv.includes('--keep');
  OBJECT_OPTIONS.chargeRefundList = process.argv.includes('--charge-refund-list');
  if (days < MIN_DAYS) console.log(`WARNING: fewer than ${MIN_DAYS} days: the later injections never happen and count as missed`);

  console.log(`Detector quality benchmark — seed "${seed}", ${days} days, ${stepMinutes}-min steps, intake: ${intake}${OBJECT_OPTIONS.chargeRefundList ? ', charges list their refunds (API < 2022-11-15)' : ''}`);
  const sim = await simulate({ seed, days, stepMinutes, intake, keepData, progress: (l) => console.log(l) });
  const s = score(sim);

  console.log('\nTraffic (per tenant, whole run)');
  console.log(trafficTable(sim));
  console.log('\nPer detector');
  console.log(detectorTable(s));
  console.log(staleLine(s));
  console.log('\nInjected anomalies');
  console.log(injectionTable(s));
  console.log('\nFalse incidents per week (clean + anomalous tenants)');
  console.log(falseByWeekTable(s, sim.startMs, days));
  console.log('\nFalse and late incidents (first ones per detector)');
  console.log(misfireTable(s));

  const perDay = s.cleanTenantDays > 0 ? s.cleanIncidents / s.cleanTenantDays : 0;
  const found = s.injections.filter((r) => r.found).length;
  console.log(`\nRun: ${(sim.wallMs / 1000).toFixed(1)} s wall (detector drain ${(sim.drainMs / 1000).toFixed(1)} s, schedule ${(sim.scheduleMs / 1000).toFixed(1)} s)${keepData ? `, data kept in ${sim.dataDir}` : ''}`);
  console.log(`Injected anomalies found: ${found}/${s.injections.length}`);
  console.log(`Incidents on clean traffic: ${s.cleanIncidents} over ${s.cleanTenantDays} clean tenant-days = ${perDay.toFixed(3)} per clean tenant-day`);
  console.log(
    s.pass
      ? '\nPASS — every injected anomaly found, no incident on clean traffic'
      : `\nFAIL — ${s.allFound ? '' : `${s.injections.length - found} injected anomalies missed`}${!s.allFound && s.cleanIncidents > 0 ? '; ' : ''}${s.cleanIncidents > 0 ? `${s.cleanIncidents} incidents on clean traffic` : ''}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
