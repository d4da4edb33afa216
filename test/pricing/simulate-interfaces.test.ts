import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/dialects.js';
import { BRIEF_TIERED_PRICE } from '../support/price-fixtures.js';
import { useTestApp } from '../support/use-test-app.js';
import { runCli } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/cli-io.js';

/** The brief's example: tiered ≤10,000 at 0.01, ≤50,000 at 0.008, rest 0.005; 25,000 units → 220.00 USD. */
const BRIEF = {
  customerId: 'test',
  periodStart: '2024-01-01T00:00:00Z',
  periodEnd: '2024-02-01T00:00:00Z',
  usageItems: [
    {
      metric: 'api_calls',
      quantity: 25000,
      priceConfig: BRIEF_TIERED_PRICE,
    },
  ],
};

describe('invoice simulator over HTTP and the CLI', () => {
  const app = useTestApp('sqlite');

  it('POST /v1/simulate prices the brief’s example at 220.00 USD with the tier breakdown', async () => {
    const res = await app.server.inject({ method: 'POST', url: '/v1/simulate', headers: { authorization: `Bearer ${app.firstStart!.apiKey}` }, payload: BRIEF });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.totals).toEqual([expect.objectContaining({ currency: 'usd', total: { minor: 22000, formatted: '220.00 USD' } })]);
    expect(body.lines[0].tiers.map((t: { amount: { minor: number } }) => t.amount.minor)).toEqual([10000, 12000]);
  });

  it('answers bad pricing input with a 400 naming the place, and needs a key', async () => {
    const bad = structuredClone(BRIEF);
    (bad.usageItems[0]!.priceConfig.tiers![1] as { upTo: number }).upTo = 5;
    const res = await app.server.inject({ method: 'POST', url: '/v1/simulate', headers: { authorization: `Bearer ${app.firstStart!.apiKey}` }, payload: bad });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(res.json().error.message).toMatch(/tiers/);
    expect((await app.server.inject({ method: 'POST', url: '/v1/simulate', payload: BRIEF })).statusCode).toBe(401);
  });

  it('meterwatch simulate prints the result and checks --expect, exiting 1 with the differences', async () => {
    const dir = tempDir();
    try {
      fs.writeFileSync(path.join(dir, 'scenario.yaml'), `name: brief\nsimulation:\n${JSON.stringify(BRIEF, null, 2).replace(/^/gm, '  ')}\n`);
      fs.writeFileSync(path.join(dir, 'good.json'), JSON.stringify({ totals: [{ total: { minor: 22000 } }] }));
      fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ totals: [{ total: { minor: 22001 } }] }));
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = { env: {}, cwd: dir, out: (l) => out.push(l), err: (l) => err.push(l), readStdin: async () => '' };
      expect(await runCli(['simulate', 'scenario.yaml', '--expect', 'good.json'], io)).toBe(0);
      expect(out.join('\n')).toContain('220.00 USD');
      expect(out.join('\n')).toContain('Matches the expected result.');
      expect(await runCli(['simulate', 'scenario.yaml', '--expect', 'bad.json'], io)).toBe(1);
      expect(err.join('\n')).toContain('totals[0].total.minor: expected 22001, got 22000');
      expect(await runCli(['simulate', 'missing.yaml'], io)).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
