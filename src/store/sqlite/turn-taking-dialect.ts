import {
  CompiledQuery,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type SqliteDatabase,
  type TransactionSettings,
} from 'kysely';
import { threadId } from 'node:worker_threads';
import { acquireWriteTurnAsync, releaseWriteTurn, turnHolderOf } from './write-turn.js';

export interface ConnectionTurn {
  buffer: SharedArrayBuffer;
  /** How long to wait for the turn before going ahead on SQLite's busy timeout alone. */
  timeoutMs: number;
  /** Whether the connection has a transaction open (better-sqlite3's `inTransaction`). */
  inTransaction: () => boolean;
  /** Whether a statement writes (better-sqlite3's `readonly`, from the statement cache). */
  writes: (sql: string) => boolean;
}

/**
 * A connection that joins the process's write turn (write-turn.ts) as a background writer: the
 * request thread's own connection, and the detector worker's. Webhook intake goes first.
 *
 * The wait is a promise (`Atomics.waitAsync`). On the request thread that matters: its writes (feed
 * cursors, jobs, notifications, usage ingest) used to wait for the other threads' commits inside
 * SQLite's busy handler, measured under webhook load up to 18.5 ms for `begin immediate` and 51.6 ms
 * for a cursor upsert, and for that long no request was served.
 *
 * The turn is held from BEGIN to the COMMIT or ROLLBACK that ends the transaction (after a failed
 * COMMIT the transaction is still open and Kysely's ROLLBACK follows), and around a writing
 * statement run outside one; reads never lock in WAL mode and never wait. Kysely's driver
 * serialises the single connection, so at most one operation of a connection waits at a time, and
 * a read issued meanwhile waits behind it.
 */
export class TurnTakingSqliteDialect extends SqliteDialect {
  constructor(
    database: SqliteDatabase,
    private readonly turn: ConnectionTurn,
  ) {
    super({ database });
  }

  override createDriver(): Driver {
    return new TurnTakingDriver(super.createDriver(), this.turn);
  }
}

class TurnTakingDriver implements Driver {
  private readonly slots: Int32Array;
  private held = false;
  /** Kysely's connection → the one handed out, and back (the inner driver wants its own). */
  private readonly outerOf = new WeakMap<DatabaseConnection, DatabaseConnection>();
  private readonly innerOf = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(
    private readonly inner: Driver,
    private readonly turn: ConnectionTurn,
  ) {
    this.slots = new Int32Array(turn.buffer, 0, 2);
  }

  init(): Promise<void> {
    return this.inner.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection();
    let outer = this.outerOf.get(connection);
    if (!outer) {
      outer = this.writesTakingTurns(connection);
      this.outerOf.set(connection, outer);
      this.innerOf.set(outer, connection);
    }
    return outer;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.take();
    try {
      await this.inner.beginTransaction(this.unwrap(connection), settings);
    } catch (error) {
      this.give();
      throw error;
    }
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.commitTransaction(this.unwrap(connection));
    } finally {
      // A failed COMMIT leaves the transaction open; Kysely's ROLLBACK follows and gives the turn back.
      if (!this.turn.inTransaction()) this.give();
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    try {
      await this.inner.rollbackTransaction(this.unwrap(connection));
    } finally {
      this.give();
    }
  }

  savepoint: Driver['savepoint'] = (connection, name, compile) => this.inner.savepoint!(this.unwrap(connection), name, compile);
  rollbackToSavepoint: Driver['rollbackToSavepoint'] = (connection, name, compile) => this.inner.rollbackToSavepoint!(this.unwrap(connection), name, compile);
  releaseSavepoint: Driver['releaseSavepoint'] = (connection, name, compile) => this.inner.releaseSavepoint!(this.unwrap(connection), name, compile);

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(this.unwrap(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }

  private async take(): Promise<void> {
    if (!this.held) this.held = await acquireWriteTurnAsync(this.slots, this.turn.timeoutMs, turnHolderOf(threadId));
  }

  private give(): void {
    if (!this.held) return;
    this.held = false;
    releaseWriteTurn(this.slots);
  }

  private unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.innerOf.get(connection) ?? connection;
  }

  /** A statement that writes outside a transaction holds the turn for its own duration. */
  private writesTakingTurns(inner: DatabaseConnection): DatabaseConnection {
    const driver = this;
    return {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        if (driver.turn.inTransaction() || driver.held || !driver.turn.writes(query.sql)) return inner.executeQuery<R>(query);
        await driver.take();
        try {
          return await inner.executeQuery<R>(query);
        } finally {
          driver.give();
        }
      },
      streamQuery: <R>(query: CompiledQuery, chunkSize?: number) => inner.streamQuery<R>(query, chunkSize),
    };
  }
}
