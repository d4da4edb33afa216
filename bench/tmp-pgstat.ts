import pg from 'pg';
import { createPostgresStore } from '../src/store/postgres/create-postgres-store.js';
import { createBenchDatabase } from './lib/postgres-db.js';
import { cleanupAll } from './lib/cleanup.js';
import { EventStream } from './scenarios/ingest.js';
const created = await createBenchDatabase();
if (!created.ok) throw new Error(created.reason);
try {
  const store = createPostgresStore({ url: created.url, poolSize: 2 });
  await store.migrate();
  const now = Date.now();
  const d = new Date(now); const period = { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
  const s = new EventStream(now - 5000, 'derived');
  for (let i = 0; i < 40; i++) await store.metering.writeEvents(s.rows(2500, 'default', period, now), { now, newAdjustmentId: () => 'x' });
  const c = new pg.Client({ connectionString: created.url }); await c.connect();
  console.log((await c.query("select relname, n_tup_ins, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables where relname like 'usage_%' order by 1")).rows);
  // One more group, each statement EXPLAIN ANALYZEd inside a transaction that is rolled back.
  const rows = s.rows(2500, 'default', period, now);
  await c.query('begin');
  const cols = ['tenant_id','ts','idem_key','metric','customer_ref','resource_id','quantity_micro','content_hash','period_start','period_end','late','source','received_at','meta'];
  const lit = (vals: unknown[]) => '{' + vals.map((v) => v === null ? 'NULL' : typeof v === 'string' ? `"${v}"` : String(v)).join(',') + '}';
  const types = ['text','bigint','text','text','text','text','bigint','text','bigint','bigint','integer','text','bigint','text'];
  const get = (r: any, c: string) => ({ tenant_id: r.tenantId, ts: r.ts, idem_key: r.idempotencyKey, metric: r.metric, customer_ref: r.customerRef, resource_id: r.resourceId, quantity_micro: r.quantityMicro, content_hash: r.contentHash, period_start: r.periodStart, period_end: r.periodEnd, late: 0, source: r.source, received_at: r.receivedAt, meta: r.meta } as any)[c];
  rows.sort((a, b) => a.idempotencyKey < b.idempotencyKey ? -1 : 1);
  const params = cols.map((c) => lit(rows.map((r) => get(r, c))));
  const list = cols.join(',');
  const sel = (ord: boolean) => `select ${list} from unnest(${types.map((t, i) => `$${i + 1}::${t}[]`).join(',')}) with ordinality as u(${list}, n)${ord ? ' order by n' : ''}`;
  const jsonRows = JSON.stringify(rows.map((r) => Object.fromEntries(cols.map((c) => [c, typeof get(r, c) === 'bigint' ? Number(get(r, c)) : get(r, c)]))));
  const arrRows = JSON.stringify(rows.map((r) => cols.map((c) => typeof get(r, c) === 'bigint' ? Number(get(r, c)) : get(r, c))));
  for (let rep = 0; rep < 3; rep++) for (const [label, q, ps] of [
    ['json_populate_recordset', `select * from json_populate_recordset(null::usage_events, $1::json)`, [jsonRows]],
    ['jsonb_populate_recordset', `select * from jsonb_populate_recordset(null::usage_events, $1::jsonb)`, [jsonRows]],
    ['unnest', sel(false), params],
  ] as const) {
    await c.query('savepoint x');
    const plan = (await c.query(`explain (analyze, timing off, summary on) ${q}`, ps as unknown[])).rows.map((r: any) => r['QUERY PLAN']);
    console.log(label, plan.filter((l: string) => /Execution/.test(l)).join(' | '), ps[0]!.length);
    await c.query('rollback to x');
  }
  for (const [label, q] of [['select only, order by n', sel(true)], ['select only, no order', sel(false)], ['insert', `insert into usage_events (${list}) ${sel(true)} on conflict do nothing`]] as const) {
    await c.query('savepoint x');
    const plan = (await c.query(`explain (analyze, buffers, timing off, summary on) ${q}`, params)).rows.map((r: any) => r['QUERY PLAN']);
    console.log(label, plan.filter((l: string) => /Execution|Planning|Insert|Sort|Buffers|Conflict/.test(l)).join(' | '));
    await c.query('rollback to x');
  }
  await c.query('rollback');
  await c.end();
  await store.close();
} finally { await cleanupAll(); }
