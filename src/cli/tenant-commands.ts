import type { Command } from 'commander';
import type { ConfigOverrides } from '../config.js';
import type { CliIo } from './cli-io.js';
import { withCliServices } from './open-cli-services.js';

export function registerTenantCommands(program: Command, io: CliIo, overrides: () => ConfigOverrides): void {
  const tenant = program.command('tenant').description('manage tenants');

  tenant
    .command('create <name>')
    .description('create a tenant; prints its webhook URL and first API key (shown once)')
    .option('--webhook-secret <whsec>', 'Stripe signing secret for its webhook URL')
    .option('--stripe-api-key <key>', 'Stripe secret or restricted key')
    .option('--json', 'print JSON')
    .action(async (name: string, opts: { webhookSecret?: string; stripeApiKey?: string; json?: boolean }) => {
      await withCliServices(io, overrides(), async ({ tenants }) => {
        const created = await tenants.create({
          name,
          ...(opts.webhookSecret ? { stripeWebhookSecret: opts.webhookSecret } : {}),
          ...(opts.stripeApiKey ? { stripeApiKey: opts.stripeApiKey } : {}),
        });
        if (opts.json) return io.out(JSON.stringify(created));
        io.out(`Tenant ${created.id} (${created.name}) created.`);
        io.out(`  Webhook URL: ${created.webhookUrl}`);
        io.out(`  API key (ingest, read, write; shown once): ${created.apiKey}`);
      });
    });

  tenant
    .command('list')
    .description('list tenants')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withCliServices(io, overrides(), async ({ tenants }) => {
        const list = await tenants.list();
        if (opts.json) return io.out(JSON.stringify(list));
        for (const t of list) {
          io.out(`${t.id}\t${t.name}\tsecrets:${t.webhookSecretsActive}\tstripe-key:${t.stripeApiKey.configured ? t.stripeApiKey.mode : 'none'}\t${t.webhookUrl}`);
        }
      });
    });

  tenant
    .command('rotate-token <tenant>')
    .description('issue a new webhook URL; the old one stops working at once')
    .action(async (idOrName: string) => {
      await withCliServices(io, overrides(), async ({ tenants }) => {
        const id = await tenants.resolveId(idOrName);
        const rotated = await tenants.rotateWebhookToken(id);
        io.out(`New webhook URL for ${id}: ${rotated.webhookUrl}`);
      });
    });

  tenant
    .command('rotate-secret <tenant> [whsec]')
    .description('make a new Stripe signing secret primary, keeping the previous one active for the overlap (reads stdin when omitted)')
    .option('--only', 'retire the previous secret now instead of keeping it active')
    .action(async (idOrName: string, secretArg: string | undefined, opts: { only?: boolean }) => {
      const secret = (secretArg ?? (await io.readStdin())).trim();
      await withCliServices(io, overrides(), async ({ tenants }) => {
        const id = await tenants.resolveId(idOrName);
        const view = await tenants.setStripeSecrets(id, opts.only ? { webhookSecrets: [secret] } : { webhookSecret: secret });
        io.out(`Tenant ${id}: ${view.webhookSecretsActive} signing secret(s) active.`);
      });
    });
}
