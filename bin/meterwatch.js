#!/usr/bin/env -S node --max-semi-space-size=8
// Runs the compiled CLI (`npm run build` produces dist/). `npm start` builds first.
// The shebang's flags are SERVE_NODE_FLAGS (src/ops/serve-node-flags.ts): keep them in step.
import '../dist/src/main.js';
