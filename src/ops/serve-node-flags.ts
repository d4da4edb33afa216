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

/**
 * Environment the server is meant to start with, in the same three places.
 *
 * `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates its own malloc arena (up to 8 per
 * core), and each arena keeps what it freed. The server has five threads that allocate through
 * malloc (request thread, webhook writer, checkpoints, detectors, libuv), SQLite's page caches
 * among them; V8's heaps do not use malloc. Measured under the webhook benchmark: 8–16 MB less peak
 * resident memory, throughput within the run-to-run spread (docs/BENCHMARKS.md). glibc reads it
 * once, when the process starts, so it cannot be set from inside; `npm start` keeps a value the
 * operator exported, the shebang sets 2.
 */
export const SERVE_ENV = { MALLOC_ARENA_MAX: '2' } as const;
