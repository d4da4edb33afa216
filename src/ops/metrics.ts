import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const MAX_TENANT_LABELS = 100;

/**
 * One registry per app instance (tests run several apps in a process). Tenant labels are bounded:
 * the first 100 tenants seen get their own label, later ones share "other", so a platform with
 * thousands of tenants cannot explode the series count.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly webhooks: Counter<'outcome' | 'tenant'>;
  readonly webhookDuration: Histogram<'outcome'>;
  readonly storeErrors: Counter<'operation'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  /** Usage events by outcome (accepted, duplicate, conflict, rejected, late) and source (api, import). */
  readonly usageEvents: Counter<'outcome' | 'source' | 'tenant'>;
  /** One observation per ingest group commit: events written together and how long it took. */
  readonly usageCommitEvents: Histogram;
  readonly usageCommitDuration: Histogram;
  readonly usageQueueEvents: Gauge;
  readonly detectorErrors: Counter<'detector'>;
  /** Billing events the detectors processed (in this process or its detector worker thread). */
  readonly detectorEvents: Counter;
  readonly detectorWorkerRestarts: Counter;
  private readonly tenantLabels = new Set<string>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'mw_' });
    this.webhooks = new Counter({
      name: 'mw_webhooks_total',
      help: 'Stripe webhook deliveries by outcome',
      labelNames: ['outcome', 'tenant'],
      registers: [this.registry],
    });
    this.webhookDuration = new Histogram({
      name: 'mw_webhook_duration_seconds',
      help: 'Time to verify and durably store a webhook delivery',
      labelNames: ['outcome'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    });
    this.storeErrors = new Counter({
      name: 'mw_store_errors_total',
      help: 'Failed store operations',
      labelNames: ['operation'],
      registers: [this.registry],
    });
    this.detectorErrors = new Counter({
      name: 'mw_detector_errors_total',
      help: 'Detector evaluations that threw (the detector is skipped for that batch)',
      labelNames: ['detector'],
      registers: [this.registry],
    });
    this.detectorEvents = new Counter({
      name: 'mw_detector_events_total',
      help: 'Billing events processed by the detectors (aggregated and evaluated)',
      registers: [this.registry],
    });
    this.detectorWorkerRestarts = new Counter({
      name: 'mw_detector_worker_restarts_total',
      help: 'Times the detector worker thread died and was restarted',
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'mw_http_request_duration_seconds',
      help: 'HTTP request duration by route',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [this.registry],
    });
    this.usageEvents = new Counter({
      name: 'mw_usage_events_total',
      help: 'Usage events by outcome (accepted, duplicate, conflict, rejected, late) and source',
      labelNames: ['outcome', 'source', 'tenant'],
      registers: [this.registry],
    });
    this.usageCommitEvents = new Histogram({
      name: 'mw_usage_commit_events',
      help: 'Events written per ingest transaction (group commit of concurrent requests)',
      buckets: [1, 2, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers: [this.registry],
    });
    this.usageCommitDuration = new Histogram({
      name: 'mw_usage_commit_duration_seconds',
      help: 'Duration of one ingest transaction (ledger, counters, rollups, adjustments)',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [this.registry],
    });
    this.usageQueueEvents = new Gauge({
      name: 'mw_usage_ingest_queue_events',
      help: 'Usage events waiting for the next group commit',
      registers: [this.registry],
    });
  }

  tenantLabel(tenantId: string | undefined): string {
    if (tenantId === undefined) return 'none';
    if (this.tenantLabels.has(tenantId)) return tenantId;
    if (this.tenantLabels.size < MAX_TENANT_LABELS) {
      this.tenantLabels.add(tenantId);
      return tenantId;
    }
    return 'other';
  }
}
