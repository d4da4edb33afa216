/**
 * Node flags Meterwatch is meant to run with, set in three places that must agree (a test checks):
 * the shebang of `bin/meterwatch.js`, `npm start`, and the benchmark's server processes.
 *
 * `--max-semi-space-size=8`: V8's young generation defaults to 16 MB semi-spaces on 64-bit
 * machines, which a busy server fills and keeps resident (~25 MB more at idle, measured). The
 * webhook and ingest paths allocate short-lived objects only, so 8 MB semi-spaces scavenge a few
 * times more often with about the same total GC work, and the process stays smaller.
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=8'] as const;
