import { Counter, Gauge, type Registry } from 'prom-client';

/** The sync's series, registered in the app's one registry (`/metrics`). */
export class SyncMetrics {
  /** Every Stripe call the sync makes, by kind (meter_event, meter_event_stream, …) and outcome (ok or the HTTP status / network). */
  readonly stripeCalls: Counter<'kind' | 'outcome'>;
  /** Push operations by mode, kind (event, cancel) and outcome (accepted, duplicate, failed). */
  readonly operations: Counter<'mode' | 'kind' | 'outcome'>;
  /** Failed push attempts by mode and reason (rate_limited, retryable, rejected, needs_review, too_old). */
  readonly failures: Counter<'mode' | 'reason'>;
  /** Seconds since the oldest unpushed change (0 when Stripe holds every target). */
  readonly lag: Gauge<'mode'>;

  constructor(registry: Registry) {
    this.stripeCalls = new Counter({ name: 'mw_sync_stripe_calls_total', help: 'Stripe API calls made by the usage sync', labelNames: ['kind', 'outcome'], registers: [registry] });
    this.operations = new Counter({ name: 'mw_sync_push_operations_total', help: 'Meter event pushes and cancellations', labelNames: ['mode', 'kind', 'outcome'], registers: [registry] });
    this.failures = new Counter({ name: 'mw_sync_push_failures_total', help: 'Failed usage push attempts', labelNames: ['mode', 'reason'], registers: [registry] });
    this.lag = new Gauge({ name: 'mw_sync_push_lag_seconds', help: 'Age of the oldest local usage change Stripe does not hold yet', labelNames: ['mode'], registers: [registry] });
  }
}
