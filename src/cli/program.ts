import { Command, CommanderError } from 'commander';
import { ConfigError, parseConfig, type ConfigOverrides } from '../config.js';
import { AppError } from '../shared/app-error.js';
import { createLogger } from '../ops/create-logger.js';
import { openStore, SecretKeyMismatchError } from '../store/open-store.js';
import { runDoctor } from '../ops/doctor.js';
import { CliExit, type CliIo } from './cli-io.js';
import { serveCommand } from './serve-command.js';
import { registerTenantCommands } from './tenant-commands.js';
import { registerKeyCommands } from './key-commands.js';
import { registerSimulateCommand } from './simulate-command.js';
import { registerMeteringCommands } from './metering-commands.js';
import { registerReconcileCommand } from './reconcile-command.js';
import { registerFakeStripeCommand } from './fake-stripe-command.js';
import { registerProjectionCommand } from './projection-command.js';
import { registerBackfillCommand } from './backfill-command.js';

interface GlobalOptions {
  dataDir?: string;
  databaseUrl?: string;
}

export function buildProgram(io: CliIo): Command {
  const program = new Command('meterwatch')
    .description('Verified Stripe webhook intake, billing anomaly detection and usage metering')
    .option('--data-dir <dir>', 'data directory (default ./data, or MW_DATA_DIR)')
    .option('--database-url <url>', 'overrides DATABASE_URL')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  const overrides = (): ConfigOverrides => {
    const g = program.opts<GlobalOptions>();
    return { ...(g.dataDir ? { dataDir: g.dataDir } : {}), ...(g.databaseUrl ? { databaseUrl: g.databaseUrl } : {}) };
  };

  program
    .command('serve')
    .description('run the HTTP server and background jobs (applies migrations first)')
    .option('--port <port>', 'listen port (default 8080, or PORT)')
    .option('--host <host>', 'listen address (default 127.0.0.1, or HOST)')
    .option('--data-dir <dir>', 'data directory')
    .action(async (opts: { port?: string; host?: string; dataDir?: string }) => {
      await serveCommand(io, {
        ...overrides(),
        ...(opts.port !== undefined ? { port: opts.port } : {}),
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
      });
    });

  program
    .command('migrate')
    .description('apply pending database migrations')
    .action(async () => {
      const config = parseConfig(io.env, overrides(), io.cwd);
      // The same rule as the other commands: LOG_LEVEL is honoured, `info` chatter is kept off the CLI.
      const { store } = await openStore(config, createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel), { migrate: false });
      try {
        const applied = await store.migrate();
        io.out(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'Migrations are current.');
      } finally {
        await store.close();
      }
    });

  program
    .command('doctor')
    .description('check config, database, migrations and secrets; lists every problem')
    .action(async () => {
      const checks = await runDoctor(io.env, overrides(), io.cwd);
      for (const c of checks) io.out(`${c.ok ? 'ok  ' : c.level === 'error' ? 'FAIL' : 'warn'}  ${c.name}: ${c.detail}`);
      const failed = checks.filter((c) => !c.ok && c.level === 'error').length;
      io.out(failed === 0 ? 'No problems found.' : `${failed} problem(s) found.`);
      if (failed > 0) throw new CliExit(1);
    });

  registerTenantCommands(program, io, overrides);
  registerKeyCommands(program, io, overrides);
  registerSimulateCommand(program, io);
  registerMeteringCommands(program, io, overrides);
  registerReconcileCommand(program, io, overrides);
  registerFakeStripeCommand(program, io);
  registerProjectionCommand(program, io, overrides);
  registerBackfillCommand(program, io, overrides);
  return program;
}

/** Runs the CLI and returns the exit code; errors become one clear line, never a stack trace. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CliExit) return error.code;
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof ConfigError || error instanceof SecretKeyMismatchError) io.err(error.message);
    else if (error instanceof AppError) io.err(`error: ${error.message}`);
    else io.err(`error: ${(error as Error).message ?? String(error)}`);
    return 1;
  }
}
