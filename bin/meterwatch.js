#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --max-old-space-size=1024
// Runs the compiled CLI (`npm run build` produces dist/). `npm start` builds first.
// The shebang's flags and variable are SERVE_NODE_FLAGS and SERVE_ENV (src/ops/serve-node-flags.ts): keep them in step.
import '../dist/src/main.js';
