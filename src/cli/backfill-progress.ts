import type { JobView } from '../jobs/job-view.js';

const BAR = 30;
const n = (v: number) => v.toLocaleString('en-US');

/**
 * How far back the job has read, as a share of its window: events come newest first, so the oldest
 * `created` seen walks from the window's top (until, or when the job was created) down to `since`.
 */
export function backfillShare(view: JobView): number {
  if (view.status === 'succeeded') return 1;
  const since = Number(view.params.since);
  const top = typeof view.params.until === 'number' ? view.params.until : Math.floor(Date.parse(view.createdAt) / 1000);
  const oldest = view.progress.oldestCreated === null ? top : Math.floor(Date.parse(view.progress.oldestCreated) / 1000);
  if (!(top > since)) return 0;
  return Math.min(1, Math.max(0, (top - oldest) / (top - since)));
}

export function backfillProgressLine(view: JobView): string {
  const share = backfillShare(view);
  const filled = Math.round(share * BAR);
  const p = view.progress;
  const back = p.oldestCreated ? `  back to ${p.oldestCreated.slice(0, 16).replace('T', ' ')}Z` : '';
  const retry = view.nextAttemptAt ? `  retrying at ${view.nextAttemptAt.slice(11, 19)}Z (attempt ${view.attempts + 1})` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  page ${n(p.pages)}  events ${n(p.processed)} (stored ${n(p.stored)}, duplicates ${n(p.duplicates)})${back}${retry}`;
}

export function describeBackfill(view: JobView): string {
  const p = view.progress;
  const head = `Backfill ${view.id} of tenant ${view.tenantId}: ${view.status}`;
  const counts = `  ${n(p.processed)} events in ${n(p.pages)} pages: ${n(p.stored)} stored, ${n(p.duplicates)} already there (by webhook or an earlier run)${p.retries > 0 ? `, ${n(p.retries)} retried attempts` : ''}`;
  const lines = [head, counts];
  if (view.error) lines.push(`  ${view.status === 'failed' ? 'error' : 'last error'}: ${view.error}`);
  return lines.join('\n');
}
