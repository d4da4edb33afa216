/**
 * Node flags Meterwatch is meant to run with, set in three places that must agree (a test checks):
 * the shebang of `bin/meterwatch.js`, `npm start`, and the benchmark's server processes.
 *
 * `--max-semi-space-size=8`: V8's young generation defaults to 16 MB semi-spaces on 64-bit
 * machines, which a busy server fills and keeps resident (~25 MB more at idle, measured). The
 * webhook and ingest paths allocate short-lived objects only, so 8 MB semi-spaces scavenge a few
 * times more often with about the same total GC work, and the process stays smaller.
 *
 * `--max-old-space-size=1024`: V8 lets the old generation grow to a multiple of what survived the
 * last full collection before collecting again, up to 4× when the heap limit is 2 GB or more (the
 * default on a machine with more than ~8 GB of memory), at most 2× below it, less the smaller the
 * limit. Under load most of that growth is garbage: request objects that lived through two
 * scavenges. Measured (docs/BENCHMARKS.md): usage ingest on PostgreSQL, 100-event requests, peak
 * RSS 251–266 → 162 MB; webhooks on SQLite 190–197 → 183 MB; throughput unchanged. The live heap
 * of a busy server is ~40 MB; imports and replay stream, a backtest is capped in events. An
 * operator who needs more passes a larger value.
 */
export const SERVE_NODE_FLAGS = ['--max-semi-space-size=8', '--max-old-space-size=1024'] as const;

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
