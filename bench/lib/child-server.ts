import { spawn, type ChildProcess } from 'node:child_process';
import { onCleanup } from './cleanup.js';
import { RssSampler } from './proc-stats.js';

export interface ChildServerOptions {
  /** Shown in messages. */
  name: string;
  /** Absolute path of the JavaScript entry to run with this Node binary. */
  script: string;
  args?: string[];
  /** The child's complete environment (nothing is inherited implicitly). */
  env: Record<string, string>;
  cwd?: string;
  /** Extra Node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Receives each stdout line parsed as JSON; returns the listening address when the line says so. */
  readyAddress: (line: Record<string, unknown>) => string | undefined;
  startTimeoutMs?: number;
}

export interface ChildServer {
  name: string;
  pid: number;
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  rss: RssSampler;
  /** Last lines of output (stdout lines that look like secrets are dropped). */
  outputTail(): string;
  /** SIGTERM, wait for a graceful exit, SIGKILL after `graceMs`. Idempotent. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const TAIL_LINES = 40;

/**
 * Runs a server in its own process (never in the load generator's event loop), waits for the line
 * that announces its address, and samples its resident memory from /proc while it lives.
 */
export async function startChildServer(options: ChildServerOptions): Promise<ChildServer> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.script, ...(options.args ?? [])], {
    env: options.env,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    await new Promise((resolve) => child.once('error', resolve));
    throw new Error(`${options.name}: could not spawn ${process.execPath}`);
  }
  const pid = child.pid;

  const tail: string[] = [];
  const remember = (line: string) => {
    // The first-start banner prints an API key for the (throw-away) data dir: keep it out of any report.
    if (/api key|\bmw_[A-Za-z0-9]|whsec_|\/webhook\//i.test(line)) return;
    tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (tail.length > TAIL_LINES) tail.shift();
  };

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
  });

  let stopping: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  const stop = (graceMs = 15_000) => {
    stopping ??= (async () => {
      if (!hasExited) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        if (!hasExited) child.kill('SIGKILL');
      }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    })();
    return stopping;
  };
  const unregister = onCleanup(
    `stop ${options.name} (pid ${pid})`,
    async () => {
      await stop();
    },
    () => {
      if (!hasExited) child.kill('SIGKILL');
    },
  );

  try {
    const url = await waitForAddress(child, options, remember, exited);
    const rss = new RssSampler(pid);
    rss.start();
    void exited.then(() => rss.stop());
    return {
      name: options.name,
      pid,
      url,
      rss,
      outputTail: () => tail.join('\n'),
      stop: async (graceMs?: number) => {
        const result = await stop(graceMs);
        rss.stop();
        await unregister();
        return result;
      },
    };
  } catch (error) {
    await stop(2_000);
    await unregister();
    const detail = tail.length > 0 ? `\n--- last output of ${options.name} ---\n${tail.join('\n')}` : '';
    throw new Error(`${(error as Error).message}${detail}`);
  }
}

function waitForAddress(
  child: ChildProcess,
  options: ChildServerOptions,
  remember: (line: string) => void,
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      reject(new Error(`${options.name} did not report a listening address within ${options.startTimeoutMs ?? 30_000} ms`));
    }, options.startTimeoutMs ?? 30_000);

    const lines = (stream: NodeJS.ReadableStream | null, onLine: (line: string) => void) => {
      if (!stream) return;
      let buffered = '';
      stream.setEncoding('utf8');
      // Always drained, even after start-up, so a chatty child can never block on a full pipe.
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, newline).trimEnd();
          buffered = buffered.slice(newline + 1);
          if (line.length > 0) onLine(line);
        }
      });
    };

    lines(child.stdout, (line) => {
      remember(line);
      if (settled || !line.startsWith('{')) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        return;
      }
      if (typeof parsed !== 'object' || parsed === null) return;
      const address = options.readyAddress(parsed as Record<string, unknown>);
      if (address) {
        settled = true;
        clearTimeout(timer);
        resolve(address.replace('://localhost', '://127.0.0.1'));
      }
    });
    lines(child.stderr, remember);

    void exited.then(({ code, signal }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${options.name} exited before listening (code ${code}, signal ${signal})`));
    });
  });
}
