import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { requireAccess, tenantOf } from '../auth.js';
import { bearerAuth, errorResponses, IdParams, TenantQuery, type WithId } from '../schemas.js';
import type { Services } from '../services.js';
import { actorOf } from './metering-http.js';
import { AppError } from '../../shared/app-error.js';
import { periodRange } from '../../reconciliation/period-query.js';
import { correctionView, parityView, epsilonView, resultView, resultsToCsv, runView } from '../../reconciliation/reconciliation-view.js';
import { correctionDecided, correctionNotFound } from '../../reconciliation/reconciliation-errors.js';
import type { CorrectionStatus, ParityStatus, ReconcileStatus } from '../../store/reconciliation-store.js';

const LIMIT = Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', description: '1–1000, default 200' }));

const RunBody = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    mappingId: Type.Optional(Type.String({ maxLength: 64 })),
    customerRef: Type.Optional(Type.String({ maxLength: 255 })),
    period: Type.Optional(Type.String({ maxLength: 40, description: 'current, YYYY-MM, or an instant; default: periods of the last 35 days' })),
    since: Type.Optional(Type.String({ maxLength: 40 })),
    until: Type.Optional(Type.String({ maxLength: 40 })),
  },
  { additionalProperties: false },
);

const ReportQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    period: Type.Optional(Type.String({ maxLength: 40, description: 'current, YYYY-MM (UTC month), or an instant: periods containing it' })),
    since: Type.Optional(Type.String({ maxLength: 40 })),
    until: Type.Optional(Type.String({ maxLength: 40 })),
    status: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('drift'), Type.Literal('error')])),
    mappingId: Type.Optional(Type.String({ maxLength: 64 })),
    customerRef: Type.Optional(Type.String({ maxLength: 255 })),
    format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('csv')])),
    cursor: Type.Optional(Type.String({ maxLength: 400, description: 'nextCursor of the previous page' })),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$', description: 'JSON 1–1000 (default 200); CSV 1–50000 (default 50000)' })),
  },
  { additionalProperties: false },
);

const CorrectionQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    status: Type.Optional(Type.Union(['proposed', 'applied', 'dismissed', 'resolved'].map((s) => Type.Literal(s)))),
    limit: LIMIT,
  },
  { additionalProperties: false },
);

const ParityQuery = Type.Object(
  {
    tenantId: Type.Optional(Type.String({ maxLength: 64 })),
    invoiceId: Type.Optional(Type.String({ maxLength: 255 })),
    status: Type.Optional(Type.Union(['ok', 'mismatch', 'unmapped', 'unknown_customer', 'error'].map((s) => Type.Literal(s)))),
    limit: LIMIT,
  },
  { additionalProperties: false },
);

const DecisionBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 1000 })) }, { additionalProperties: false });

const limitOf = (raw: string | undefined) => Math.min(Math.max(raw === undefined ? 200 : Number(raw), 1), 1000);

/** The report's position as an opaque string: period start, mapping and customer of the last row. */
function encodeResultCursor(r: { periodStart: number; mappingId: string; customerRef: string }): string {
  return Buffer.from(JSON.stringify([r.periodStart, r.mappingId, r.customerRef])).toString('base64url');
}

function decodeResultCursor(cursor: string): { periodStart: number; mappingId: string; customerRef: string } {
  try {
    const [periodStart, mappingId, customerRef] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (Number.isSafeInteger(periodStart) && typeof mappingId === 'string' && typeof customerRef === 'string') return { periodStart: periodStart as number, mappingId, customerRef };
  } catch {
    // fall through to the one error below
  }
  throw new AppError('validation_failed', 'cursor is not a nextCursor this endpoint returned');
}

/** Local totals against Stripe's meter summaries, their proposed corrections, and invoice parity. */
export async function reconciliationRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const read = requireAccess(services, { scope: 'read' });
  const write = requireAccess(services, { scope: 'write' });
  const { service } = services.reconciliation;
  const store = services.store.reconciliation;

  app.post<{ Body: Static<typeof RunBody> }>('/v1/reconciliation/run', {
    preHandler: write,
    schema: {
      tags: ['sync'],
      summary: 'Reconcile now: per mapping, customer and period, local totals against Stripe’s meter event summaries',
      security: bearerAuth,
      body: RunBody,
      response: errorResponses(400, 401, 403, 409, 503),
    },
  }, async (request) => {
    const b = request.body;
    const range = periodRange({ period: b.period, since: b.since, until: b.until }, services.clock.now());
    const report = await service.run(tenantOf(request, b.tenantId), {
      trigger: 'api',
      ...range,
      ...(b.mappingId ? { mappingId: b.mappingId } : {}),
      ...(b.customerRef ? { customerRef: b.customerRef } : {}),
    });
    return {
      run: runView(report.run),
      results: report.results.map(resultView),
      corrections: report.corrections.map(correctionView),
    };
  });

  app.get<{ Querystring: Static<typeof ReportQuery> }>('/v1/reconciliation', {
    preHandler: read,
    schema: {
      tags: ['sync'],
      summary: 'The latest comparison per mapping, customer and period (JSON, or CSV with format=csv or Accept: text/csv)',
      security: bearerAuth,
      querystring: ReportQuery,
      response: errorResponses(400, 401, 403, 503),
    },
  }, async (request, reply) => {
    const q = request.query;
    const tenantId = tenantOf(request, q.tenantId);
    const range = periodRange({ period: q.period, since: q.since, until: q.until }, services.clock.now());
    const wantsCsv = q.format === 'csv' || (q.format === undefined && (request.headers.accept ?? '').includes('text/csv'));
    // A CSV is an export: one file, up to 50,000 rows. JSON pages with a cursor.
    const limit = wantsCsv ? Math.min(Math.max(q.limit === undefined ? 50_000 : Number(q.limit), 1), 50_000) : limitOf(q.limit);
    const rows = await store.listResults(tenantId, {
      ...range,
      ...(q.status ? { status: q.status as ReconcileStatus } : {}),
      ...(q.mappingId ? { mappingId: q.mappingId } : {}),
      ...(q.customerRef ? { customerRef: q.customerRef } : {}),
      ...(q.cursor ? { after: decodeResultCursor(q.cursor) } : {}),
      limit: limit + 1,
    });
    const results = rows.slice(0, limit);
    const last = rows.length > limit ? results[results.length - 1] : undefined;
    if (wantsCsv) {
      if (last) reply.header('x-next-cursor', encodeResultCursor(last));
      return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="reconciliation.csv"').send(resultsToCsv(results));
    }
    return { results: results.map(resultView), nextCursor: last ? encodeResultCursor(last) : null, epsilon: epsilonView(services.config.reconciliation.epsilonPpm) };
  });

  app.get<{ Querystring: Static<typeof TenantQuery> }>('/v1/reconciliation/runs', {
    preHandler: read,
    schema: { tags: ['sync'], summary: 'Recent reconciliation runs, newest first', security: bearerAuth, querystring: TenantQuery, response: errorResponses(401, 403, 503) },
  }, async (request) => ({ runs: (await store.listRuns(tenantOf(request, request.query.tenantId), 50)).map(runView) }));

  app.get<{ Querystring: Static<typeof CorrectionQuery> }>('/v1/reconciliation/corrections', {
    preHandler: read,
    schema: { tags: ['sync'], summary: 'Proposed corrections (one per drifting mapping, customer and period) and their decisions', security: bearerAuth, querystring: CorrectionQuery, response: errorResponses(400, 401, 403, 503) },
  }, async (request) => {
    const q = request.query;
    const rows = await store.listCorrections(tenantOf(request, q.tenantId), { ...(q.status ? { status: q.status as CorrectionStatus } : {}), limit: limitOf(q.limit) });
    return { corrections: rows.map(correctionView) };
  });

  app.post<WithId & { Body: Static<typeof DecisionBody> | undefined }>('/v1/reconciliation/corrections/:id/dismiss', {
    preHandler: write,
    schema: { tags: ['sync'], summary: 'Dismiss a proposed correction (with a reason); a later drift proposes anew', security: bearerAuth, params: IdParams, querystring: TenantQuery, body: Type.Optional(DecisionBody), response: errorResponses(400, 401, 403, 404, 409, 503) },
  }, async (request) => {
    const tenantId = tenantOf(request, request.query.tenantId);
    const existing = await store.getCorrection(tenantId, request.params.id);
    if (!existing) throw correctionNotFound();
    const decided = await store.decideCorrection(tenantId, existing.id, { status: 'dismissed', actor: actorOf(request), reason: request.body?.reason ?? null, now: services.clock.now() });
    if (!decided) throw correctionDecided(existing.status);
    return correctionView(decided);
  });

  app.post<WithId & { Body: Static<typeof DecisionBody> | undefined }>('/v1/reconciliation/corrections/:id/apply', {
    preHandler: write,
    schema: {
      tags: ['sync'],
      summary: 'Apply a proposed correction: the sync learns what Stripe holds and pushes the difference on its next cycle',
      security: bearerAuth,
      params: IdParams,
      querystring: TenantQuery,
      body: Type.Optional(DecisionBody),
      response: errorResponses(400, 401, 403, 404, 409, 503),
    },
  }, async (request) => correctionView(await service.applyCorrection(tenantOf(request, request.query.tenantId), request.params.id, actorOf(request), request.body?.reason ?? null)));

  app.get<{ Querystring: Static<typeof ParityQuery> }>('/v1/invoice-parity', {
    preHandler: read,
    schema: { tags: ['sync'], summary: 'Invoice usage lines compared with local counters (newest first)', security: bearerAuth, querystring: ParityQuery, response: errorResponses(400, 401, 403, 503) },
  }, async (request) => {
    const q = request.query;
    const rows = await store.listParityChecks(tenantOf(request, q.tenantId), {
      ...(q.invoiceId ? { invoiceId: q.invoiceId } : {}),
      ...(q.status ? { status: q.status as ParityStatus } : {}),
      limit: limitOf(q.limit),
    });
    return { checks: rows.map(parityView) };
  });
}
