import { afterAll, beforeAll } from 'vitest';
import { freshDatabase, type Dialect, type FreshDatabase } from './dialects.js';
import { startTestApp, type TestApp } from './test-app.js';

/**
 * One test app on a fresh database for the describe block it is called in: started before the
 * block's tests (and before its own beforeAll hooks, which run in order), closed and its database
 * dropped after them. The object returned stands for the app once started, so suites keep writing
 * `app.server.inject(…)`, `app.clock`, `app.db`.
 */
export function useTestApp(dialect: Dialect, env: Record<string, string> = {}): TestApp {
  let db: FreshDatabase | undefined;
  let started: TestApp | undefined;
  beforeAll(async () => {
    db = await freshDatabase(dialect);
    started = await startTestApp(db, env);
  });
  afterAll(async () => {
    await started?.close();
    await db?.cleanup();
  });
  const app = (): TestApp => {
    if (!started) throw new Error('the test app is started in beforeAll');
    return started;
  };
  return {
    get services() {
      return app().services;
    },
    get server() {
      return app().server;
    },
    get firstStart() {
      return app().firstStart;
    },
    get clock() {
      return app().clock;
    },
    get db() {
      return app().db;
    },
    listen: () => app().listen(),
    startBackground: () => app().startBackground(),
    close: () => app().close(),
  };
}
