import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The repository root: the nearest directory above this file holding package.json (works from dist/ too). */
export function repoRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return (cached = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the benchmark');
    dir = parent;
  }
}

/** The compiled file for a path relative to the repository root's dist/, e.g. `src/main.js`. */
export function distFile(relative: string): string {
  return path.join(repoRoot(), 'dist', relative);
}
