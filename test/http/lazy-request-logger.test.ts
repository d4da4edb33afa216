import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { FastifyBaseLogger } from 'fastify';
import { lazyRequestLogger } from '../../src/http/lazy-request-logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(JSON.parse(String(chunk)));
      callback();
    },
  });
  const logger = pino({ level: 'info', redact: { paths: ['*.token'], censor: '[redacted]' } }, stream);
  return { logger: logger as unknown as FastifyBaseLogger, lines };
}

describe('lazy request logger', () => {
  it('makes no child until something is logged', () => {
    const { logger } = capture();
    let children = 0;
    const counting = Object.assign(Object.create(logger as object), { child: (...args: Parameters<FastifyBaseLogger['child']>) => (children++, logger.child(...args)) }) as FastifyBaseLogger;
    const log = lazyRequestLogger(counting, { reqId: 'req_1' }, {});
    expect(log.level).toBe('info');
    expect(children).toBe(0);
    log.debug('below the level still asks the child, which drops it');
    expect(children).toBe(1);
  });

  it('logs through a child carrying the request id, with the parent’s redaction', async () => {
    const { logger, lines } = capture();
    const log = lazyRequestLogger(logger, { reqId: 'req_42' }, {});
    log.error({ err: new Error('boom'), body: { token: 'secret-value' } }, 'request failed');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reqId: 'req_42', msg: 'request failed', body: { token: '[redacted]' } });
    expect(JSON.stringify(lines[0])).not.toContain('secret-value');
  });
});
