import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.js';

describe('sync configuration', () => {
  it('defaults: 60 s, v1, 4 calls per account, 3 failing cycles, 70 days', () => {
    expect(parseConfig({}, {}, '/tmp').sync).toEqual({ intervalMs: 60_000, transport: 'v1', concurrency: 4, failingAfter: 3, lookbackMs: 70 * 86_400_000 });
  });

  it('reads MW_SYNC_* and reports every bad value together', () => {
    const env = { MW_SYNC_INTERVAL_SECONDS: '15', MW_SYNC_TRANSPORT: 'V2', MW_SYNC_CONCURRENCY: '8', MW_SYNC_FAILING_CYCLES: '5', MW_SYNC_LOOKBACK_DAYS: '40' };
    expect(parseConfig(env, {}, '/tmp').sync).toEqual({ intervalMs: 15_000, transport: 'v2', concurrency: 8, failingAfter: 5, lookbackMs: 40 * 86_400_000 });
    try {
      parseConfig({ MW_SYNC_INTERVAL_SECONDS: '0', MW_SYNC_TRANSPORT: 'v3', MW_SYNC_CONCURRENCY: 'many' }, {}, '/tmp');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toContain('MW_SYNC_INTERVAL_SECONDS must be between 1 and 86400, got 0');
      expect(problems).toContain('MW_SYNC_TRANSPORT must be v1 or v2, got "v3"');
      expect(problems.some((p) => p.startsWith('MW_SYNC_CONCURRENCY must be a whole number'))).toBe(true);
    }
  });
});
