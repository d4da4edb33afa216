import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import type { CliIo } from '../../src/cli/cli-io.js';
import type { KyselyStore } from '../../src/store/kysely-store.js';
import { DIALECTS, dialectEnabled } from '../support/dialects.js';
import { startMetering, type MeteringApp } from './metering-harness.js';

/** Backfill over HTTP (JSONL and CSV, streamed) and the `meterwatch import` / `replay` commands. */
for (const dialect of DIALECTS) {
  const enabled = await dialectEnabled(dialect);

  describe.skipIf(!enabled)(`backfill and CLI: ${dialect}`, () => {
    let m: MeteringApp;

    beforeAll(async () => {
      m = await startMetering(dialect);
    });
    afterAll(async () => {
      await m?.close();
    });

    const backfill = async (body: string, contentType: string, query = '') => {
      const res = await m.app.server.inject({ method: 'POST', url: `/v1/events/backfill${query}`, headers: { authorization: `Bearer ${m.key}`, 'content-type': contentType }, payload: body });
      return { status: res.statusCode, body: res.json() };
    };

    it('imports JSONL with the ingest rules, reports reasons with examples, and dedupes a re-import', async () => {
      const lines = [
        ...Array.from({ length: 2500 }, (_, i) => JSON.stringify({ metric: 'api_calls', customerRef: 'cus_jl', quantity: 1, ts: `2026-11-0${1 + (i % 9)}T00:00:00.${String(i).padStart(3, '0').slice(-3)}Z`, idempotencyKey: `jl-${i}` })),
        '',
        '{"metric":"api_calls","customerRef":"cus_jl","quantity":"5","ts":"2026-11-02T00:00:00Z"}',
        'not json at all',
        '{"metric":"api_calls","customerRef":"cus_jl","quantity":2,"ts":"2026-11-02T00:00:00Z","idempotencyKey":"jl-7"}',
        '{"metric":"api_calls","customerRef":"cus_jl","quantity":123456789012.345678,"ts":"2026-11-03T00:00:00Z"}',
        '{"metric":"api_calls","customerRef":"cus_jl","quantity":1,"ts":"2026-10-03T00:00:00Z"}',
      ];
      const first = await backfill(`${lines.join('\r\n')}\n`, 'application/x-ndjson', '?name=usage.jsonl');
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        status: 'completed',
        format: 'jsonl',
        sourceName: 'usage.jsonl',
        records: 2505,
        accepted: 2502,
        duplicates: 0,
        conflicts: 1,
        rejected: 2,
        late: 1,
        reasons: {
          invalid_quantity: { count: 1, examples: [{ record: 2501, message: 'quantity must be a JSON number, not a string' }] },
          invalid_json: { count: 1, examples: [{ record: 2502 }] },
          idempotency_conflict: { count: 1, examples: [{ record: 2503 }] },
        },
      });
      const op = await m.get(`/v1/events/backfill/${first.body.operationId}`);
      expect(op.body).toMatchObject({ operationId: first.body.operationId, status: 'completed', accepted: 2502 });
      expect((await m.get('/v1/events/backfill')).body.data[0].operationId).toBe(first.body.operationId);
      const again = await backfill(lines.join('\n'), 'application/x-ndjson');
      expect(again.body).toMatchObject({ accepted: 0, duplicates: 2502, rejected: 2, conflicts: 1 });
      const usage = await m.get('/v1/usage/current?customerRef=cus_jl');
      expect(usage.body.metrics[0]).toMatchObject({ sum: '123456791512.345678', count: 2501 });
      const listed = await m.get('/v1/events?customerRef=cus_jl&limit=1');
      expect(listed.body.data[0].source).toBe('import');
      await m.expectFolds();
    });

    it('imports CSV (quoted fields, meta as JSON, exact decimals); refuses an unknown header', async () => {
      const csv = [
        'metric,customerRef,quantity,ts,idempotencyKey,meta',
        'storage,cus_csv,1.25,2026-11-05T00:00:00Z,c-1,',
        'storage,"cus_csv",0.75,1793840400000,c-2,"{""region"":""eu,west""}"',
        'storage,cus_csv,abc,2026-11-05T00:00:00Z,c-3,',
        'storage,cus_csv,1',
      ].join('\n');
      const res = await backfill(csv, 'text/csv');
      expect(res.body).toMatchObject({ status: 'completed', format: 'csv', records: 4, accepted: 2, rejected: 2, reasons: { invalid_quantity: { count: 1 }, invalid_record: { count: 1 } } });
      const events = await m.get('/v1/events?customerRef=cus_csv');
      expect(events.body.data.map((e: { quantity: string; meta: unknown }) => [e.quantity, e.meta])).toEqual([
        ['0.75', { region: 'eu,west' }],
        ['1.25', null],
      ]);
      expect((await m.get('/v1/usage/current?customerRef=cus_csv&metric=storage')).body.metrics[0]).toMatchObject({ sum: '2' });
      const bad = await backfill('metric,customer,quantity,ts\nx,y,1,2\n', 'text/csv');
      expect(bad.body).toMatchObject({ status: 'failed', error: expect.stringMatching(/unknown CSV column/) });
      expect((await m.app.server.inject({ method: 'POST', url: '/v1/events/backfill', headers: { authorization: `Bearer ${m.key}`, 'content-type': 'application/xml' }, payload: '<x/>' })).statusCode).toBe(415);
      await m.expectFolds();
    });

    it('meterwatch import FILE: progress, summary, exit code; meterwatch replay: dry run, then --apply', async () => {
      const file = path.join(m.db.dataDir, 'events.jsonl');
      const out = fs.createWriteStream(file);
      for (let i = 0; i < 3000; i++) out.write(`${JSON.stringify({ metric: 'cli', customerRef: `cus_cli_${i % 7}`, quantity: 0.5, ts: Date.UTC(2026, 10, 12, 0, 0, 0, i) })}\n`);
      out.write('{"metric":"cli","customerRef":"cus_cli_0","quantity":-1,"ts":"2026-11-12T00:00:00Z"}\n');
      await new Promise<void>((resolve) => out.end(resolve));
      const env = { DATABASE_URL: m.db.databaseUrl, MW_DATA_DIR: m.db.dataDir, LOG_LEVEL: 'silent' };
      const run = async (argv: string[]) => {
        const lines: string[] = [];
        const progress: { text: string; final: boolean }[] = [];
        const io: CliIo = { env, cwd: m.db.dataDir, out: (l) => lines.push(l), err: (l) => lines.push(l), readStdin: async () => '', progress: (text, final) => progress.push({ text, final }) };
        const code = await runCli(argv, io);
        return { code, out: lines.join('\n'), progress };
      };

      const imported = await run(['import', 'events.jsonl']);
      expect(imported.code).toBe(1); // one record rejected
      expect(imported.out).toMatch(/records 3001, accepted 3000 \(late 0\), duplicates 0, conflicts 0, rejected 1/);
      expect(imported.out).toMatch(/invalid_quantity: 1\n {4}record 3001: quantity must not be negative/);
      expect(imported.progress.length).toBeGreaterThanOrEqual(3);
      expect(imported.progress.at(-1)).toMatchObject({ final: true, text: expect.stringMatching(/^\[#{30}\] 100%/) });
      expect((await m.get('/v1/usage/current?customerRef=cus_cli_0&metric=cli')).body.metrics[0]).toMatchObject({ count: 429, sum: '214.5' });
      const json = await run(['import', 'events.jsonl', '--json']);
      expect(JSON.parse(json.out)).toMatchObject({ status: 'completed', duplicates: 3000, rejected: 1 });
      expect((await run(['import', 'missing.jsonl'])).code).toBe(1);

      const clean = await run(['replay', '--metric', 'cli']);
      expect(clean).toMatchObject({ code: 0 });
      expect(clean.out).toMatch(/every counter equals the fold/);
      const store = m.app.services.store as KyselyStore;
      await sql`update usage_counters set sum_micro = 1 where tenant_id = 'default' and customer_ref = 'cus_cli_3'`.execute(store.db);
      const dirty = await run(['replay', '--metric', 'cli', '--since', '2026-11-01', '--until', '2026-12-01']);
      expect(dirty.code).toBe(1);
      expect(dirty.out).toMatch(/1 difference\(s\)/);
      expect(dirty.out).toMatch(/counter cli \/ cus_cli_3 .* stored 0\.000001/);
      const fixed = await run(['replay', '--metric', 'cli', '--apply', '--json']);
      expect(fixed.code).toBe(0);
      expect(JSON.parse(fixed.out)).toMatchObject({ dryRun: false, differenceCount: 1, repaired: 1 });
      expect((await run(['replay'])).code).toBe(0);
      await m.expectFolds();
    });
  });
}
