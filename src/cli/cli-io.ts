/** What a CLI command may touch from the outside world; tests pass their own. */
export interface CliIo {
  env: Record<string, string | undefined>;
  cwd: string;
  out(line: string): void;
  err(line: string): void;
  readStdin(): Promise<string>;
  /**
   * A progress line that replaces itself (a progress bar on a terminal); `final` ends it. Optional:
   * without it, long commands only print their summary.
   */
  progress?(text: string, final: boolean): void;
}

export function processIo(): CliIo {
  return {
    env: process.env,
    cwd: process.cwd(),
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    progress: terminalProgress(),
    readStdin: async () => {
      if (process.stdin.isTTY) return '';
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    },
  };
}

/** Exit with a code after the command finished (commander actions cannot return one). */
export class CliExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** On a TTY, one line redrawn in place; otherwise a plain line at most every 5 s (CI logs stay short). */
function terminalProgress(): (text: string, final: boolean) => void {
  let lastPlain = 0;
  return (text, final) => {
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
      return;
    }
    const now = Date.now();
    if (final || now - lastPlain >= 5_000) {
      lastPlain = now;
      process.stderr.write(`${text}\n`);
    }
  };
}
