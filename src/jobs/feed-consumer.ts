import type { Clock } from '../shared/clock.js';
import type { BillingEventRecord, Store } from '../store/store.js';

/**
 * Reads stored billing events through a named, durable cursor. The cursor moves only after the
 * handler succeeded, so a crash re-delivers the last batch and never skips one; a consumer that needs
 * exactly-once effects writes its results and advances its cursor in one transaction of its own.
 * Redelivered webhooks never reach the feed: the store kept only the first copy.
 */
export class FeedConsumer {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    readonly name: string,
    private readonly handle: (events: BillingEventRecord[]) => Promise<void>,
    private readonly batchSize = 500,
    /** Only these event types reach the handler; the others are passed over without their payloads. */
    private readonly types?: readonly string[],
  ) {}

  /** Drains up to `maxBatches` batches; returns how many events were handled. */
  async run(maxBatches = 20): Promise<number> {
    let handled = 0;
    let position = await this.store.getFeedCursor(this.name);
    for (let i = 0; i < maxBatches; i++) {
      const batch = this.types ? await this.store.readFeedOfTypes(position, this.batchSize, this.types) : await this.store.readFeed(position, this.batchSize);
      if (batch.scanned === 0) break;
      if (batch.events.length > 0) await this.handle(batch.events);
      await this.store.saveFeedCursor(this.name, batch.position, this.clock.now());
      position = batch.position;
      handled += batch.events.length;
      if (batch.scanned < this.batchSize) break;
      // A SQLite read is synchronous: let waiting requests run between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return handled;
  }
}
