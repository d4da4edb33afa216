/**
 * Everything the benchmark starts (child servers, temp dirs, databases) registers its teardown here,
 * so it is undone on a normal finish, on an error, on Ctrl-C and, for what can be done
 * synchronously (killing children, removing dirs), even on an abrupt exit.
 */
type AsyncCleanup = () => Promise<void> | void;

interface Entry {
  label: string;
  run: AsyncCleanup;
  /** Last-resort synchronous variant for process 'exit' (no awaiting possible there). */
  runSync?: () => void;
}

const entries = new Map<number, Entry>();
let nextId = 1;
let installed = false;
let running: Promise<void> | undefined;

/** Registers a teardown; the returned function runs it now (once) and unregisters it. */
export function onCleanup(label: string, run: AsyncCleanup, runSync?: () => void): () => Promise<void> {
  install();
  const id = nextId++;
  entries.set(id, runSync ? { label, run, runSync } : { label, run });
  return async () => {
    const entry = entries.get(id);
    if (!entry) return;
    entries.delete(id);
    await entry.run();
  };
}

/** Runs every registered teardown, newest first; failures are reported, never thrown. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    const ids = [...entries.keys()].reverse();
    for (const id of ids) {
      const entry = entries.get(id);
      if (!entry) continue;
      entries.delete(id);
      try {
        await entry.run();
      } catch (error) {
        process.stderr.write(`cleanup "${entry.label}" failed: ${(error as Error).message}\n`);
      }
    }
  })().finally(() => {
    running = undefined;
  });
  return running;
}

function install(): void {
  if (installed) return;
  installed = true;
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping child processes and removing temp data…\n`);
    void cleanupAll().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', () => {
    for (const entry of entries.values()) {
      try {
        entry.runSync?.();
      } catch {
        // best effort at exit
      }
    }
  });
}
