import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SERVE_NODE_FLAGS } from '../../src/ops/serve-node-flags.js';

/** The flags live in three places a shared constant cannot reach; they must not drift apart. */
describe('serve node flags', () => {
  const flags = SERVE_NODE_FLAGS.join(' ');

  it('are in the shebang of bin/meterwatch.js', () => {
    const firstLine = fs.readFileSync(new URL('../../bin/meterwatch.js', import.meta.url), 'utf8').split('\n', 1)[0];
    expect(firstLine).toBe(`#!/usr/bin/env -S node ${flags}`);
  });

  it('are in npm start', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain(`node ${flags} bin/meterwatch.js serve`);
  });
});
