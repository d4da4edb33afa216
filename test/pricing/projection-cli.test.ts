import { describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { utc } from '../metering/metering-harness.js';
import { ISSUE_TIERS, money, useProjectionApp } from './projection-harness.js';

/** `meterwatch projection` in-process against the same database the API wrote, on both stores. */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`meterwatch projection: ${dialect}`, () => {
    const p = useProjectionApp(dialect);

    const run = async (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const env = { DATABASE_URL: p.m.db.databaseUrl, MW_DATA_DIR: p.m.db.dataDir, LOG_LEVEL: 'silent' };
      const io: CliIo = { env, cwd: p.m.db.dataDir, out: (l) => out.push(l), err: (l) => err.push(l), readStdin: async () => '' };
      const code = await runCli(argv, io);
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

    it('prints the same projection as the API, as text or JSON; unknown customers and tenants exit 1', async () => {
      const t = await p.tenant('cli');
      await t.putPrice('api_calls', { priceConfig: { model: 'graduated', currency: 'usd', tiers: ISSUE_TIERS } });
      p.m.app.clock.set(utc(2026, 11, 3));
      await t.ingest([{ metric: 'api_calls', customerRef: 'cus_cli', quantity: 100, ts: '2026-11-02T00:00:00Z' }]);
      const api = await t.project({ customerRef: 'cus_cli' });

      const json = await run(['projection', '--tenant', t.id, '--customer', 'cus_cli', '--as-of', '2026-11-03T00:00:00Z', '--json']);
      expect(json.code, json.err).toBe(0);
      expect(JSON.parse(json.out)).toEqual(api.body);
      expect(JSON.parse(json.out).totals).toEqual([{ currency: 'usd', current: money(10000, '100.00 USD'), projected: money(112000, '1,120.00 USD') }]);

      const text = await run(['projection', '--tenant', t.id, '--customer', 'cus_cli', '--as-of', '2026-11-03']);
      expect(text.code).toBe(0);
      expect(text.out).toContain('period 2026-11-01T00:00:00.000Z → 2026-12-01T00:00:00.000Z (calendar), elapsed 0.066667');
      expect(text.out).toContain('api_calls (sum): 100 → 1500 [linear]  100.00 USD → 1,120.00 USD');
      expect(text.out).toContain('total USD: 100.00 USD now → 1,120.00 USD projected');

      expect(await run(['projection', '--tenant', t.id, '--customer', 'cus_nobody'])).toMatchObject({ code: 1, err: 'error: Customer not found' });
      expect(await run(['projection', '--tenant', 'no_such_tenant', '--customer', 'cus_cli'])).toMatchObject({ code: 1, err: 'error: no tenant "no_such_tenant"' });
      expect((await run(['projection', '--tenant', t.id])).code).toBe(1);
    });
  });
}
