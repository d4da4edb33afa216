import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import type { ImportReasons, ImportRecord, MeteringStore } from '../store/metering-store.js';
import { ExactNumber, parseJsonExact } from './exact-json.js';
import type { IngestService } from './ingest-service.js';
import { readRecords, type ImportFormat, type InputRecord } from './record-reader.js';
import { toImportView, type ImportView } from './usage-views.js';

export interface ImportLimits {
  /** Events handed to the ingest pipeline at a time (one group commit, one progress update). */
  chunkSize: number;
  maxRecordBytes: number;
}

export interface ImportRun {
  format: ImportFormat;
  sourceName: string | null;
  actor: string;
  /** Called once the operation exists, then after every chunk (the CLI draws its progress bar from it). */
  onProgress?: (view: ImportView) => void;
}

const CSV_COLUMNS = new Set(['tenantId', 'metric', 'customerRef', 'quantity', 'ts', 'idempotencyKey', 'resourceId', 'meta']);
const CSV_REQUIRED = ['metric', 'customerRef', 'quantity', 'ts'];
const CSV_NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const EXAMPLES_PER_REASON = 5;

class ImportAborted extends Error {}

/**
 * `POST /v1/events/backfill` and `meterwatch import FILE`: JSONL or CSV records through the same
 * validation, dedup and group-committed writes as the ingest API (source `import`). Progress is a
 * durable operation row (`GET /v1/events/backfill/{id}`); re-running an import is safe, its events
 * come back as duplicates.
 */
export class ImportService {
  constructor(
    private readonly ingest: IngestService,
    private readonly store: MeteringStore,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly limits: ImportLimits,
  ) {}

  async run(tenantId: string, input: AsyncIterable<Buffer | string>, options: ImportRun): Promise<ImportView> {
    const now = this.clock.now();
    const op: ImportRecord = {
      id: this.ids.next('imp'),
      tenantId,
      status: 'running',
      format: options.format,
      sourceName: options.sourceName,
      records: 0,
      accepted: 0,
      duplicates: 0,
      conflicts: 0,
      rejected: 0,
      late: 0,
      bytesRead: 0,
      reasons: {},
      error: null,
      createdBy: options.actor,
      startedAt: now,
      updatedAt: now,
      finishedAt: null,
    };
    await this.store.insertImport(op);
    options.onProgress?.(toImportView(op));

    const progress = { bytesRead: 0 };
    const save = async () => {
      op.bytesRead = progress.bytesRead;
      op.updatedAt = this.clock.now();
      await this.store.updateImport(tenantId, op.id, op, op.updatedAt);
      options.onProgress?.(toImportView(op));
    };
    try {
      let header: string[] | undefined;
      let chunk: { record: number; event: unknown }[] = [];
      let exact = false;
      const flush = async () => {
        if (chunk.length === 0) return;
        const outcome = await this.ingest.ingest(tenantId, chunk.map((c) => c.event), { source: 'import', exact });
        op.accepted += outcome.accepted;
        op.duplicates += outcome.duplicates;
        op.conflicts += outcome.conflicts;
        op.late += outcome.late;
        op.rejected += outcome.rejected;
        for (const r of outcome.results) {
          if (r.status === 'rejected' || r.status === 'conflict') note(op.reasons, r.code, chunk[r.index]!.record, r.reason);
        }
        chunk = [];
        exact = false;
        await save();
      };
      for await (const rec of readRecords(input, options.format, this.limits.maxRecordBytes, progress)) {
        if (options.format === 'csv' && header === undefined && rec.kind === 'fields') {
          header = csvHeader(rec.fields);
          continue;
        }
        op.records += 1;
        const parsed = toEvent(rec, header);
        if ('problem' in parsed) {
          op.rejected += 1;
          note(op.reasons, parsed.code, rec.record, parsed.problem);
          continue;
        }
        chunk.push({ record: rec.record, event: parsed.event });
        exact ||= parsed.exact;
        if (chunk.length >= this.limits.chunkSize) await flush();
      }
      await flush();
      op.status = 'completed';
      op.finishedAt = this.clock.now();
      await save();
      return toImportView(op);
    } catch (error) {
      op.status = 'failed';
      op.error = error instanceof ImportAborted ? error.message : `import stopped: ${(error as Error).message ?? String(error)}`;
      op.finishedAt = this.clock.now();
      await save().catch(() => {});
      if (error instanceof ImportAborted) return toImportView(op);
      throw error;
    }
  }

  async get(tenantId: string, id: string): Promise<ImportRecord | undefined> {
    return this.store.getImport(tenantId, id);
  }
}

function csvHeader(fields: string[]): string[] {
  const names = fields.map((f) => f.trim());
  const unknown = names.filter((n) => !CSV_COLUMNS.has(n));
  if (unknown.length > 0) throw new ImportAborted(`unknown CSV column(s) ${unknown.map((u) => JSON.stringify(u)).join(', ')}; expected ${[...CSV_COLUMNS].join(', ')}`);
  const missing = CSV_REQUIRED.filter((r) => !names.includes(r));
  if (missing.length > 0) throw new ImportAborted(`CSV header lacks ${missing.join(', ')}`);
  if (new Set(names).size !== names.length) throw new ImportAborted('CSV header repeats a column');
  return names;
}

type Parsed = { event: unknown; exact: boolean } | { code: string; problem: string };

function toEvent(rec: InputRecord, header: string[] | undefined): Parsed {
  switch (rec.kind) {
    case 'too_large':
      return { code: 'record_too_large', problem: 'the record is longer than the limit' };
    case 'malformed':
      return { code: 'invalid_record', problem: rec.reason };
    case 'line': {
      try {
        const { value, exact } = parseJsonExact(rec.text);
        return { event: value, exact };
      } catch {
        return { code: 'invalid_json', problem: 'the line is not valid JSON' };
      }
    }
    case 'fields': {
      if (!header) return { code: 'invalid_record', problem: 'no CSV header' };
      if (rec.fields.length !== header.length) return { code: 'invalid_record', problem: `${rec.fields.length} fields, the header has ${header.length}` };
      // CSV cells are text: numbers are read exactly from the cell, empty cells are absent fields.
      const event: Record<string, unknown> = {};
      let exact = false;
      for (let i = 0; i < header.length; i++) {
        const name = header[i]!;
        const cell = rec.fields[i]!;
        if (cell === '') continue;
        if (name === 'quantity') {
          if (!CSV_NUMBER.test(cell.trim())) return { code: 'invalid_quantity', problem: `quantity ${JSON.stringify(cell.slice(0, 40))} is not a decimal number` };
          event.quantity = new ExactNumber(cell.trim());
        } else if (name === 'ts') {
          event.ts = /^\d{1,15}$/.test(cell.trim()) ? Number(cell.trim()) : cell.trim();
        } else if (name === 'meta') {
          try {
            const parsed = parseJsonExact(cell);
            exact ||= parsed.exact;
            event.meta = parsed.value;
          } catch {
            return { code: 'invalid_event', problem: 'meta is not valid JSON' };
          }
        } else event[name] = cell;
      }
      return { event, exact };
    }
  }
}

function note(reasons: ImportReasons, code: string, record: number, message: string): void {
  const entry = (reasons[code] ??= { count: 0, examples: [] });
  entry.count += 1;
  if (entry.examples.length < EXAMPLES_PER_REASON) entry.examples.push({ record, message });
}
