import fs from 'node:fs';
import { afterAll } from 'vitest';
import { tempDir } from './dialects.js';

/**
 * A `tempDir` for one test file: every directory it makes is removed once the file's tests are done
 * (call it at the top level of the file, where afterAll applies to all of them).
 */
export function scratchDirs(): (prefix: string) => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });
  return (prefix) => {
    const dir = tempDir(prefix);
    dirs.push(dir);
    return dir;
  };
}
