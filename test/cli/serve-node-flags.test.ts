import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVE_ENV, SERVE_NODE_FLAGS } from '../../src/ops/serve-node-flags.js';

/** The flags and variables live in three places a shared constant cannot reach; they must not drift apart. */
describe('serve node flags and environment', () => {
  const flags = SERVE_NODE_FLAGS.join(' ');
  const assignments = Object.entries(SERVE_ENV).map(([k, v]) => `${k}=${v}`).join(' ');

  it('are in the shebang of bin/meterwatch.js', () => {
    const firstLine = fs.readFileSync(new URL('../../bin/meterwatch.js', import.meta.url), 'utf8').split('\n', 1)[0];
    expect(firstLine).toBe(`#!/usr/bin/env -S ${assignments} node ${flags}`);
  });

  it('are in npm start, which keeps a value the operator exported', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    const withDefaults = Object.entries(SERVE_ENV).map(([k, v]) => `${k}=\${${k}:-${v}}`).join(' ');
    expect(pkg.scripts.start).toContain(`${withDefaults} node ${flags} bin/meterwatch.js serve`);
  });
});
