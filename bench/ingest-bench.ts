/**
 * `npm run bench:ingest`: the usage-ingest scenarios alone (see bench/scenarios/ingest.ts).
 *   --quick            short runs (harness check)
 *   --only=sqlite      or postgres
 *   --big=10000000     also measure at a large ledger (slow: loads it first)
 *   --sizes=1,100      --keys=derived,random
 *   --json=FILE
 */
import fs from 'node:fs';
import path from 'node:path';
import { cleanupAll } from './lib/cleanup.js';
import { renderIngestReport, runIngestScenarios, type IngestBenchOptions, type IngestDialect, type KeyMode } from './scenarios/ingest.js';

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const value = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const options: IngestBenchOptions = {
    connections: 32,
    warmupSeconds: quick ? 1 : 3,
    seconds: quick ? 3 : 10,
    ceilingSeconds: quick ? 2 : 5,
    dialects: (value('only')?.split(',') as IngestDialect[] | undefined) ?? ['sqlite', 'postgres'],
    sizes: value('sizes')?.split(',').map(Number) ?? [1, 100],
    keyModes: (value('keys')?.split(',') as KeyMode[] | undefined) ?? ['derived', 'random'],
    ...(value('big') ? { bigRows: Number(value('big')) } : {}),
  };
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const result = await runIngestScenarios(options, log);
    process.stdout.write(`${renderIngestReport(result)}\n`);
    const json = value('json');
    if (json) fs.writeFileSync(path.resolve(json), `${JSON.stringify(result, null, 2)}\n`);
    return result.runs.some((r) => !r.verification.ok) ? 1 : 0;
  } finally {
    await cleanupAll();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  async (error: unknown) => {
    await cleanupAll();
    process.stderr.write(`ingest benchmark failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
