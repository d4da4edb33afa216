import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('metering configuration', () => {
  it('has the documented defaults', () => {
    expect(parseConfig({}, {}, '/tmp').metering).toEqual({
      maxEventsPerRequest: 1000,
      maxBodyBytes: 1_048_576,
      maxFutureMs: 300_000,
      metaMaxBytes: 4096,
      latenessMs: 48 * 3_600_000,
      groupMaxEvents: 5000,
      concurrency: undefined,
      maxQueuedEvents: 200_000,
      periodCacheMs: 60_000,
    });
  });

  it('reads every variable and reports every bad one at once', () => {
    const config = parseConfig({ MW_INGEST_MAX_EVENTS: '500', MW_LATENESS_HOURS: '72', MW_INGEST_CONCURRENCY: '8', MW_PERIOD_CACHE_SECONDS: '0' }, {}, '/tmp');
    expect(config.metering).toMatchObject({ maxEventsPerRequest: 500, latenessMs: 72 * 3_600_000, concurrency: 8, periodCacheMs: 0 });
    let error: ConfigError | undefined;
    try {
      parseConfig({ MW_INGEST_MAX_EVENTS: '0', MW_LATENESS_HOURS: 'two days', MW_INGEST_MAX_BYTES: '10', MW_INGEST_CONCURRENCY: '1000' }, {}, '/tmp');
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      'MW_INGEST_MAX_EVENTS must be between 1 and 100000, got 0',
      'MW_INGEST_MAX_BYTES must be between 1024 and 268435456, got 10',
      'MW_LATENESS_HOURS must be a whole number between 0 and 8784, got "two days"',
      'MW_INGEST_CONCURRENCY must be between 1 and 64, got 1000',
    ]);
  });
});
