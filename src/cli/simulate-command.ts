import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { diffResults, parseExpected, parseScenario, runScenario, type SimulationResult } from '../pricing/index.js';
import { CliExit, type CliIo } from './cli-io.js';

/** `meterwatch simulate scenario.(json|yaml) [--expect expected.json] [--json]`: no database needed. */
export function registerSimulateCommand(program: Command, io: CliIo): void {
  program
    .command('simulate <scenario>')
    .description('simulate an invoice from a JSON or YAML scenario; with --expect (or `expected` in the file) exit 1 and print the differences when the result differs')
    .option('--expect <file>', 'expected result (JSON or YAML); only the fields it lists are compared')
    .option('--json', 'print the full result as JSON')
    .action((file: string, opts: { expect?: string; json?: boolean }) => {
      const scenarioPath = path.resolve(io.cwd, file);
      const scenario = parseScenario(fs.readFileSync(scenarioPath, 'utf8'), scenarioPath);
      const result = runScenario(scenario);
      io.out(opts.json ? JSON.stringify(result, null, 2) : summarize(result));
      let expected: unknown = 'simulation' in scenario ? scenario.expected : undefined;
      if (opts.expect) {
        const expectPath = path.resolve(io.cwd, opts.expect);
        expected = parseExpected(fs.readFileSync(expectPath, 'utf8'), expectPath);
      }
      if (expected === undefined) return;
      const differences = diffResults(result, expected);
      if (differences.length === 0) {
        io.out('Matches the expected result.');
        return;
      }
      io.err(`The result differs from the expected one in ${differences.length} place(s):`);
      for (const d of differences) io.err(`  ${d}`);
      throw new CliExit(1);
    });
}

function summarize(result: SimulationResult): string {
  const lines: string[] = [];
  for (const line of result.lines) {
    lines.push(`${line.metric}: ${line.quantity} units → ${line.amount.formatted}`);
    for (const tier of line.tiers) {
      lines.push(`    tier ${tier.tier} (${tier.from}–${tier.upTo ?? '∞'}]: ${tier.quantity} × ${tier.unitPrice} = ${tier.amount.formatted}, flat ${tier.flatFee.formatted}`);
    }
  }
  for (const total of result.totals) {
    lines.push(`Total ${total.currency.toUpperCase()}: ${total.total.formatted} (subtotal ${total.subtotal.formatted}, credits ${total.creditsApplied.formatted}, tax ${total.tax.formatted})`);
  }
  return lines.join('\n');
}
