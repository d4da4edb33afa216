import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { acquireWriteTurn, acquireWriteTurnAsync, createWriteTurnBuffer, releaseWriteTurn, releaseWriteTurnHeldBy, turnHolderOf } from '../../src/store/sqlite/write-turn.js';
import { createSqliteStore } from '../../src/store/sqlite/create-sqlite-store.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { freshDatabase, type FreshDatabase } from '../support/dialects.js';
import { until } from '../support/until.js';

const HELD = 0;
const INTAKE_WAITING = 1;

/** A thread that takes the turn as intake, by the functions' source text as the webhook writer does. */
function intakeThread(buffer: SharedArrayBuffer): Worker {
  return new Worker(
    `
    const { parentPort, workerData } = require('node:worker_threads');
    ${acquireWriteTurn.toString()}
    ${releaseWriteTurn.toString()}
    const slots = new Int32Array(workerData, 0, 2);
    parentPort.on('message', (m) => {
      if (m === 'acquire') { parentPort.postMessage('waiting'); parentPort.postMessage({ got: acquireWriteTurn(slots, 10000) }); }
      if (m === 'release') { releaseWriteTurn(slots); parentPort.postMessage('released'); }
    });
    `,
    { eval: true, workerData: buffer },
  );
}

const nextMessage = (worker: Worker) => new Promise<unknown>((resolve) => worker.once('message', resolve));

/** A store's transaction holds the turn from BEGIN to COMMIT, and a failed one gives it back at ROLLBACK. */
async function expectTurnHeldForTransactions(store: KyselyStore, slots: Int32Array, lease: string): Promise<void> {
  await store.db.transaction().execute(async (trx) => {
    expect(Atomics.load(slots, HELD)).toBe(1);
    await sql`insert into leases (name, holder, expires_at) values (${lease}, 'a', 1)`.execute(trx);
    expect(Atomics.load(slots, HELD)).toBe(1);
  });
  expect(Atomics.load(slots, HELD)).toBe(0);
  await expect(
    store.db.transaction().execute(async (trx) => {
      await sql`insert into leases (name, holder, expires_at) values (${lease}, 'b', 1)`.execute(trx);
    }),
  ).rejects.toThrow();
  expect(Atomics.load(slots, HELD)).toBe(0);
}

describe('sqlite write turn', () => {
  it('is freed by the parent of a thread that died holding it, and only if that thread holds it', async () => {
    const buffer = createWriteTurnBuffer();
    const slots = new Int32Array(buffer, 0, 2);
    // A helper thread takes the turn under its own id and dies without giving it back.
    const worker = new Worker(
      `
      const { workerData, threadId } = require('node:worker_threads');
      ${acquireWriteTurn.toString()}
      const turnHolderOf = ${turnHolderOf.toString()};
      acquireWriteTurn(new Int32Array(workerData, 0, 2), 1000, turnHolderOf(threadId));
      process.exit(3);
      `,
      { eval: true, workerData: buffer },
    );
    const holder = turnHolderOf(worker.threadId);
    const [code] = (await new Promise((resolve) => worker.once('exit', (c) => resolve([c])))) as [number];
    expect(code).toBe(3);
    expect(Atomics.load(slots, HELD)).toBe(holder);
    // Another thread's id frees nothing; the dead holder's does, and the next writer gets the turn at once.
    expect(releaseWriteTurnHeldBy(slots, holder + 1)).toBe(false);
    expect(Atomics.load(slots, HELD)).toBe(holder);
    expect(releaseWriteTurnHeldBy(slots, holder)).toBe(true);
    expect(await acquireWriteTurnAsync(slots, 0)).toBe(true);
    expect(releaseWriteTurnHeldBy(slots, holder)).toBe(false);
    releaseWriteTurn(slots);
  });

  it('wakes a waiting intake writer when the background holder releases, and hands it the turn', async () => {
    const buffer = createWriteTurnBuffer();
    const slots = new Int32Array(buffer, 0, 2);
    expect(acquireWriteTurn(slots, 1_000)).toBe(true);
    const worker = intakeThread(buffer);
    try {
      worker.postMessage('acquire');
      expect(await nextMessage(worker)).toBe('waiting');
      // The intake thread is blocked on the futex, counted as waiting.
      await until(() => Atomics.load(slots, INTAKE_WAITING) === 1);
      const answer = nextMessage(worker);
      releaseWriteTurn(slots);
      expect(await answer).toEqual({ got: true });
      expect(Atomics.load(slots, HELD)).toBe(1);
      expect(Atomics.load(slots, INTAKE_WAITING)).toBe(0);
      worker.postMessage('release');
      expect(await nextMessage(worker)).toBe('released');
      expect(Atomics.load(slots, HELD)).toBe(0);
    } finally {
      await worker.terminate();
    }
  });

  it('makes a background writer step aside while intake waits, even with the turn free', async () => {
    const slots = new Int32Array(createWriteTurnBuffer(), 0, 2);
    Atomics.store(slots, INTAKE_WAITING, 1);
    expect(await acquireWriteTurnAsync(slots, 20)).toBe(false);
    expect(Atomics.load(slots, HELD)).toBe(0);
    Atomics.store(slots, INTAKE_WAITING, 0);
    expect(await acquireWriteTurnAsync(slots, 20)).toBe(true);
    expect(Atomics.load(slots, HELD)).toBe(1);
  });

  it('gives up after the timeout without touching a turn held elsewhere (SQLite still locks)', () => {
    const slots = new Int32Array(createWriteTurnBuffer(), 0, 2);
    Atomics.store(slots, HELD, 1);
    expect(acquireWriteTurn(slots, 10)).toBe(false);
    expect(Atomics.load(slots, HELD)).toBe(1);
    expect(Atomics.load(slots, INTAKE_WAITING)).toBe(0);
  });

  describe('a background store connection', () => {
    let db: FreshDatabase;
    let main: KyselyStore;
    let background: KyselyStore;
    let slots: Int32Array;

    beforeAll(async () => {
      db = await freshDatabase('sqlite');
      main = createSqliteStore({ file: db.sqliteFile! });
      await main.migrate();
      expect(main.writeTurn).toBeInstanceOf(SharedArrayBuffer);
      slots = new Int32Array(main.writeTurn!, 0, 2);
      background = createSqliteStore({ file: db.sqliteFile!, helperThreads: false, backgroundWriteTurn: { buffer: main.writeTurn!, timeoutMs: 30_000 } });
      expect(background.writeTurn).toBeUndefined();
    });
    afterAll(async () => {
      await background?.close();
      await main?.close();
      await db?.cleanup();
    });

    it('holds the turn from BEGIN to COMMIT, and gives it back after a rollback', async () => {
      await expectTurnHeldForTransactions(background, slots, 'turn-test');
    });

    it('waits for the turn (stepping aside for intake) on a write outside a transaction, never on a read', async () => {
      const impatient = createSqliteStore({ file: db.sqliteFile!, helperThreads: false, backgroundWriteTurn: { buffer: main.writeTurn!, timeoutMs: 150 } });
      Atomics.store(slots, INTAKE_WAITING, 1);
      try {
        // A read goes ahead at once: WAL readers take no lock (the patient store would wait 30 s).
        await sql`select count(*) from leases`.execute(background.db);
        // A write waits while intake waits, here until its timeout, then SQLite's own lock decides.
        const started = performance.now();
        await sql`update leases set holder = 'c' where name = 'turn-test'`.execute(impatient.db);
        expect(performance.now() - started).toBeGreaterThanOrEqual(140);
      } finally {
        Atomics.store(slots, INTAKE_WAITING, 0);
        await impatient.close();
      }
      expect(Atomics.load(slots, HELD)).toBe(0);
      const reader = new BetterSqlite3(db.sqliteFile!, { readonly: true });
      try {
        expect(reader.prepare(`select holder from leases where name = 'turn-test'`).get()).toEqual({ holder: 'c' });
      } finally {
        reader.close();
      }
    });
  });

  describe("the request thread's connection", () => {
    let db: FreshDatabase;
    let main: KyselyStore;
    let slots: Int32Array;

    beforeAll(async () => {
      db = await freshDatabase('sqlite');
      main = createSqliteStore({ file: db.sqliteFile! });
      await main.migrate();
      slots = new Int32Array(main.writeTurn!, 0, 2);
    });
    afterAll(async () => {
      await main?.close();
      await db?.cleanup();
    });

    /** Counts event-loop turns while `pending` is unsettled: proof that waiting did not block the loop. */
    async function loopTurnsWhile(pending: () => boolean, atLeast: number): Promise<number> {
      let turns = 0;
      for (let i = 0; i < 10_000 && pending() && turns < atLeast; i++) {
        await new Promise((r) => setImmediate(r));
        turns++;
      }
      return turns;
    }

    it('holds the turn from BEGIN to COMMIT, and gives it back after a rollback', async () => {
      await expectTurnHeldForTransactions(main, slots, 'main-turn');
    });

    it('waits for a turn held by another thread without stopping the event loop, and runs when it is released', async () => {
      expect(acquireWriteTurn(slots, 1_000)).toBe(true);
      let began = false;
      let done = false;
      const transaction = main.db
        .transaction()
        .execute(async (trx) => {
          began = true;
          await sql`update leases set holder = 'd' where name = 'main-turn'`.execute(trx);
        })
        .then(() => {
          done = true;
        });
      try {
        // The loop keeps turning while the transaction waits; it has not even begun.
        expect(await loopTurnsWhile(() => !done, 50)).toBe(50);
        expect(began).toBe(false);
      } finally {
        releaseWriteTurn(slots);
      }
      await transaction;
      expect(began).toBe(true);
      expect(Atomics.load(slots, HELD)).toBe(0);
    });

    it('takes the turn for a write outside a transaction, steps aside while intake waits, and never waits to read', async () => {
      Atomics.store(slots, INTAKE_WAITING, 1);
      let written = false;
      let write: Promise<void> | undefined;
      try {
        // A read goes ahead at once: WAL readers take no lock. (Queries of this connection run one
        // at a time, so a read issued while a write waits for the turn waits behind it.)
        const rows = await sql<{ n: number }>`select count(*) as n from leases`.execute(main.db);
        expect(rows.rows[0]!.n).toBe(1);
        write = sql`update leases set holder = 'e' where name = 'main-turn'`.execute(main.db).then(() => {
          written = true;
        });
        expect(await loopTurnsWhile(() => !written, 50)).toBe(50);
        expect(written).toBe(false);
      } finally {
        Atomics.store(slots, INTAKE_WAITING, 0);
      }
      await write;
      expect(Atomics.load(slots, HELD)).toBe(0);
      const row = await sql<{ holder: string }>`select holder from leases where name = 'main-turn'`.execute(main.db);
      expect(row.rows[0]!.holder).toBe('e');
    });
  });
});
