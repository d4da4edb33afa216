import type { Command } from 'commander';
import type { ConfigOverrides } from '../config.js';
import { ALL_SCOPES, type Scope } from '../store/store.js';
import { AppError } from '../shared/app-error.js';
import type { CliIo } from './cli-io.js';
import { withCliServices } from './open-cli-services.js';

export function registerKeyCommands(program: Command, io: CliIo, overrides: () => ConfigOverrides): void {
  const key = program.command('key').description('manage API keys');

  key
    .command('create')
    .description('create an API key (shown once)')
    .option('--tenant <tenant>', 'tenant id or name', 'default')
    .option('--scopes <scopes>', `comma-separated: ${ALL_SCOPES.join(',')}`, 'ingest,read')
    .option('--name <name>', 'a label for the key', 'cli')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; scopes: string; name: string; json?: boolean }) => {
      const scopes = opts.scopes.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      const unknown = scopes.filter((s) => !ALL_SCOPES.includes(s as Scope));
      if (unknown.length > 0) throw new AppError('validation_failed', `unknown scope(s): ${unknown.join(', ')}`);
      await withCliServices(io, overrides(), async ({ tenants, apiKeys }) => {
        const created = await apiKeys.create(await tenants.resolveId(opts.tenant), { name: opts.name, scopes: scopes as Scope[] });
        if (opts.json) return io.out(JSON.stringify(created));
        io.out(`API key ${created.id} for tenant ${created.tenantId} (${created.scopes.join(', ')}), shown once:`);
        io.out(created.key);
      });
    });

  key
    .command('list')
    .description('list API keys of a tenant')
    .option('--tenant <tenant>', 'tenant id or name', 'default')
    .option('--json', 'print JSON')
    .action(async (opts: { tenant: string; json?: boolean }) => {
      await withCliServices(io, overrides(), async ({ tenants, apiKeys }) => {
        const list = await apiKeys.list(await tenants.resolveId(opts.tenant));
        if (opts.json) return io.out(JSON.stringify(list));
        for (const k of list) io.out(`${k.id}\t${k.prefix}…\t${k.name}\t${k.scopes.join(',')}\t${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}`);
      });
    });

  key
    .command('revoke <id>')
    .description('revoke an API key')
    .option('--tenant <tenant>', 'tenant id or name', 'default')
    .action(async (id: string, opts: { tenant: string }) => {
      await withCliServices(io, overrides(), async ({ tenants, apiKeys }) => {
        await apiKeys.revoke(await tenants.resolveId(opts.tenant), id);
        io.out(`Revoked ${id}.`);
      });
    });
}
