import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * How to start a worker whose entry module sits beside the caller. From dist it is the compiled
 * `.js` file. From sources (tests, `node --import tsx src/main.ts`) it is the `.ts` file: on Node 20
 * a worker does not inherit the parent's module hooks, so a small bootstrap registers tsx in the
 * thread first, then imports the entry.
 */
export function workerEntry(callerUrl: string, baseName: string): { script: URL | string; eval: boolean } {
  if (!callerUrl.endsWith('.ts')) return { script: new URL(`./${baseName}.js`, callerUrl), eval: false };
  const tsxApi = pathToFileURL(createRequire(callerUrl).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const entry = new URL(`./${baseName}.ts`, callerUrl).href;
  return { script: `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`, eval: true };
}
