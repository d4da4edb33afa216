import type { LoadResult } from '../lib/load.js';
import type { CpuWindowResult } from '../lib/proc-stats.js';
import type { ServerDiagnostics } from '../lib/meterwatch-server.js';

export type ScenarioKey = 'ceiling' | 'sqlite' | 'postgres' | 'duplicates';

export interface Verification {
  ok: boolean;
  detail: string;
}

export interface ScenarioResult {
  key: ScenarioKey;
  title: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or how it failed. */
  message?: string;
  load?: LoadResult;
  warmup?: LoadResult;
  /** Peak resident memory of the server process during the measured run (sampled VmRSS). */
  peakRssMb?: number;
  /** Peak resident memory of the server over its whole life (start-up, warm-up, every phase). */
  lifetimePeakRssMb?: number;
  /** Resident memory of the server just before the measured run. */
  startRssMb?: number;
  cpu?: CpuWindowResult;
  verification?: Verification;
  notes: string[];
}

export interface WebhookScenarioOptions {
  connections: number;
  /** Warm-up requests (not measured), bounded by `warmupMaxSeconds`. */
  warmupAmount: number;
  warmupMaxSeconds: number;
  /** The measured run aims at this length: its request count is sized from the warm-up rate. */
  targetSeconds: number;
  /** Duplicate-redelivery run length (SQLite only), 0 to skip. */
  duplicateSeconds: number;
  diagnostics?: ServerDiagnostics;
}
