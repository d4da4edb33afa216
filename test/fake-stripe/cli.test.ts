import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Stripe from 'stripe';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import { STRIPE_API_VERSION } from '../../src/stripe/stripe-client.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MAIN = path.join(ROOT, 'src', 'main.ts');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const running = new Set<ChildProcess>();
afterEach(() => {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  running.clear();
});

/** Resolves with the first match of `pattern` in the child's stdout; rejects on exit or after 30 s. */
function waitForLine(child: ChildProcess, read: () => string, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(read());
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`exited before ${pattern}: ${read()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${pattern}: ${read()}`));
    }, 30_000);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', check);
      child.off('close', onClose);
    };
    child.stdout!.on('data', check);
    child.once('close', onClose);
    check();
  });
}

function memoryIo(): CliIo & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return { env: {}, cwd: ROOT, lines, errors, out: (l) => lines.push(l), err: (l) => errors.push(l), readStdin: async () => '' };
}

describe('meterwatch fake-stripe', () => {
  it('runs as a process, prints STRIPE_API_BASE, serves the SDK and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, 'fake-stripe', '--port', '0'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(child);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const [, base] = await waitForLine(child, () => out, /STRIPE_API_BASE=(http:\/\/127\.0\.0\.1:\d+)\n/);
    const url = new URL(base!);
    const stripe = new Stripe('sk_test_cli', { apiVersion: STRIPE_API_VERSION, host: url.hostname, port: Number(url.port), protocol: 'http', maxNetworkRetries: 0 });
    const customer = await stripe.customers.create({ email: 'cli@example.test' });
    expect(customer.id).toMatch(/^cus_/);
    await waitForLine(child, () => out, /POST \/v1\/customers 200/);
    child.kill('SIGTERM');
    expect(await closed).toBe(0);
    expect(out).toContain('Fake Stripe stopped (SIGTERM).');
  });

  it('refuses bad fault options before listening', async () => {
    const io = memoryIo();
    expect(await runCli(['fake-stripe', '--port', '0', '--fault-rate', '2'], io)).toBe(2);
    expect(io.errors.join('\n')).toContain('--fault-rate must be a number within 0..1');
    const io2 = memoryIo();
    expect(await runCli(['fake-stripe', '--port', '0', '--fault-rate', '0.1', '--fault-kinds', '500,boom'], io2)).toBe(2);
    expect(io2.errors.join('\n')).toContain('unknown fault kind(s): boom');
    expect(io.lines).toEqual([]);
  });
});
