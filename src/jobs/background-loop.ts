import type { Logger } from 'pino';

export interface BackgroundTask {
  name: string;
  run(): Promise<void>;
}

/**
 * One in-process loop for background work (feed consumers, schedules). Its heartbeat is what
 * `/health/ready` checks: a loop that stopped ticking makes the replica unready, honestly.
 * A failing task is logged and retried next tick; it never stops the others.
 */
export class BackgroundLoop {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastTickAt: number | undefined;
  private readonly tasks: BackgroundTask[] = [];

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  add(task: BackgroundTask): void {
    this.tasks.push(task);
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      if (this.running) return;
      this.running = this.tick().finally(() => {
        this.running = undefined;
      });
    };
    tick();
    this.timer = setInterval(tick, this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Runs every task once; exposed so tests drive the loop without timers. */
  async tick(): Promise<void> {
    for (const task of this.tasks) {
      try {
        await task.run();
      } catch (error) {
        this.logger.error({ task: task.name, err: error }, 'background task failed');
      }
    }
    this.lastTickAt = this.now();
  }

  /** Healthy when the last tick finished within three intervals (and never less than 30 s, so one slow tick is not an outage). */
  heartbeat(): { healthy: boolean; lastTickAt: number | undefined } {
    const last = this.lastTickAt;
    return { healthy: last !== undefined && this.now() - last <= Math.max(this.intervalMs * 3, 30_000), lastTickAt: last };
  }
}
