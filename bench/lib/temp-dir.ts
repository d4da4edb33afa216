import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onCleanup } from './cleanup.js';

/** A fresh directory under the OS temp dir, removed at cleanup (also on failure and on exit). */
export function makeTempDir(label: string): { dir: string; remove: () => Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mw-bench-${label}-`));
  const removeSync = () => fs.rmSync(dir, { recursive: true, force: true });
  const remove = onCleanup(`remove ${dir}`, removeSync, removeSync);
  return { dir, remove };
}
