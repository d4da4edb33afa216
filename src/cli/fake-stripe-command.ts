import type { Command } from 'commander';
import type { FakeStripe } from '../fake-stripe/index.js';
import { ALL_FAULT_KINDS, type FaultKind, type FaultPlan } from '../fake-stripe/faults.js';
import { CliExit, type CliIo } from './cli-io.js';

interface FakeStripeCliOptions {
  port: string;
  host: string;
  seed?: string;
  faultRate?: string;
  faultKinds?: string;
  decimalValues?: boolean;
  quiet?: boolean;
}

/**
 * `meterwatch fake-stripe`: the in-memory Stripe API (src/fake-stripe) as a process, for demos and
 * manual runs without network access to Stripe. Point Meterwatch (or any official SDK) at it with
 * STRIPE_API_BASE. No database, no configuration.
 */
export function registerFakeStripeCommand(program: Command, io: CliIo, stopSignal: () => Promise<string> = untilSignal): void {
  program
    .command('fake-stripe')
    .description('run a local fake of the Stripe API (customers, prices, subscriptions, billing meters, meter events v1/v2, events) for demos')
    .option('--port <port>', 'listen port (0 picks a free one)', '12111')
    .option('--host <host>', 'listen address', '127.0.0.1')
    .option('--seed <n>', 'seed of the fault plan (same seed, same faults)')
    .option('--fault-rate <rate>', 'share of requests that fail, 0..1 (e.g. 0.2)')
    .option('--fault-kinds <list>', `comma-separated faults to pick from (${ALL_FAULT_KINDS.join(', ')}); default all`)
    .option('--decimal-values', 'accept decimal meter event values (a Stripe private preview)')
    .option('--quiet', 'do not print one line per request')
    .action(async (opts: FakeStripeCliOptions) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65_535) return fail(io, `--port must be an integer 0..65535, got "${opts.port}"`);
      const faults = parseFaults(io, opts);
      // Loaded here, not at start-up: `meterwatch serve` should not carry the fake's ~10 MB.
      const { startFakeStripe } = await import('../fake-stripe/index.js');
      const fake: FakeStripe = await startFakeStripe({
        host: opts.host,
        port,
        ...(faults ? { faults } : {}),
        acceptDecimalValues: opts.decimalValues === true,
        ...(opts.quiet ? {} : { onRequest: (r) => io.out(`${r.method} ${r.path} ${r.status === 0 ? '(no response)' : r.status}${r.fault ? ` [fault: ${r.fault}]` : ''}`) }),
      });
      io.out(`Fake Stripe listening on ${fake.url}`);
      io.out(`STRIPE_API_BASE=${fake.url}`);
      io.out('Any sk_test_… / sk_live_… / rk_… key works; each key is its own empty account.');
      if (faults) io.out(`Faults: seed ${faults.seed}, rate ${faults.rate}, kinds ${(faults.kinds ?? ALL_FAULT_KINDS).join(', ')}.`);
      const signal = await stopSignal();
      await fake.close();
      io.out(`Fake Stripe stopped (${signal}).`);
    });
}

function parseFaults(io: CliIo, opts: FakeStripeCliOptions): FaultPlan | null {
  if (opts.faultRate === undefined) {
    if (opts.seed !== undefined || opts.faultKinds !== undefined) return fail(io, '--seed and --fault-kinds need --fault-rate');
    return null;
  }
  const rate = Number(opts.faultRate);
  if (!(rate >= 0 && rate <= 1)) return fail(io, `--fault-rate must be a number within 0..1, got "${opts.faultRate}"`);
  const seed = opts.seed === undefined ? 1 : Number(opts.seed);
  if (!Number.isInteger(seed)) return fail(io, `--seed must be an integer, got "${opts.seed}"`);
  let kinds: FaultKind[] | undefined;
  if (opts.faultKinds !== undefined) {
    kinds = opts.faultKinds.split(',').map((k) => k.trim()) as FaultKind[];
    const unknown = kinds.filter((k) => !ALL_FAULT_KINDS.includes(k));
    if (unknown.length > 0) return fail(io, `unknown fault kind(s): ${unknown.join(', ')} (known: ${ALL_FAULT_KINDS.join(', ')})`);
  }
  return { seed, rate, ...(kinds ? { kinds } : {}) };
}

function fail(io: CliIo, message: string): never {
  io.err(message);
  throw new CliExit(2);
}

function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
