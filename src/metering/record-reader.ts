import { StringDecoder } from 'node:string_decoder';

/**
 * Streams records out of JSONL or CSV input with bounded memory: at most one record (capped at
 * `maxRecordBytes`) plus one input chunk is held at a time, whatever the file size. A record over the
 * cap is reported as such and skipped up to its end.
 */
export type ImportFormat = 'jsonl' | 'csv';

export type InputRecord =
  | { record: number; kind: 'line'; text: string }
  | { record: number; kind: 'fields'; fields: string[] }
  | { record: number; kind: 'too_large' }
  | { record: number; kind: 'malformed'; reason: string };

export interface ReaderProgress {
  bytesRead: number;
}

export async function* readRecords(input: AsyncIterable<Buffer | string>, format: ImportFormat, maxRecordBytes: number, progress: ReaderProgress): AsyncGenerator<InputRecord> {
  const decoder = new StringDecoder('utf8');
  const parser = format === 'jsonl' ? new LineSplitter(maxRecordBytes) : new CsvSplitter(maxRecordBytes);
  for await (const chunk of input) {
    progress.bytesRead += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    yield* parser.push(text);
  }
  yield* parser.push(decoder.end());
  yield* parser.end();
}

/** JSONL: one JSON document per line; blank lines are skipped; a trailing CR is dropped. */
class LineSplitter {
  private buffer = '';
  private skipping = false;
  private record = 0;

  constructor(private readonly max: number) {}

  *push(text: string): Generator<InputRecord> {
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl === -1) {
        if (!this.skipping) {
          this.buffer += text.slice(start);
          if (this.buffer.length > this.max) {
            this.buffer = '';
            this.skipping = true;
            yield { record: ++this.record, kind: 'too_large' };
          }
        }
        return;
      }
      if (this.skipping) this.skipping = false;
      else yield* this.emit(this.buffer + text.slice(start, nl));
      this.buffer = '';
      start = nl + 1;
    }
  }

  *end(): Generator<InputRecord> {
    if (!this.skipping && this.buffer.length > 0) yield* this.emit(this.buffer);
    this.buffer = '';
  }

  private *emit(line: string): Generator<InputRecord> {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return;
    if (text.length > this.max) {
      yield { record: ++this.record, kind: 'too_large' };
      return;
    }
    yield { record: ++this.record, kind: 'line', text };
  }
}

/**
 * CSV per RFC 4180: comma-separated, fields optionally in double quotes, `""` for a quote inside a
 * quoted field, which may also hold commas and line breaks. CRLF or LF line ends; blank lines skipped.
 */
class CsvSplitter {
  private fields: string[] = [];
  private field = '';
  private quoted = false;
  /** Inside quotes. */
  private inQuotes = false;
  /** Just read a quote inside quotes: either the closing one or the first of `""`. */
  private quotePending = false;
  private size = 0;
  private skipping = false;
  private record = 0;
  private malformed: string | undefined;

  constructor(private readonly max: number) {}

  *push(text: string): Generator<InputRecord> {
    for (let i = 0; i < text.length; i++) {
      const c = text[i]!;
      if (this.skipping) {
        if (c === '\n' && !this.inQuotes) this.skipping = false;
        else if (c === '"') this.inQuotes = !this.inQuotes;
        continue;
      }
      if (++this.size > this.max) {
        yield { record: ++this.record, kind: 'too_large' };
        this.reset();
        this.skipping = true;
        if (c === '"') this.inQuotes = !this.inQuotes;
        else if (c === '\n' && !this.inQuotes) this.skipping = false;
        continue;
      }
      if (this.quotePending) {
        this.quotePending = false;
        if (c === '"') {
          this.field += '"';
          continue;
        }
        this.inQuotes = false; // that quote closed the field; c is handled below
      }
      if (this.inQuotes) {
        if (c === '"') this.quotePending = true;
        else this.field += c;
        continue;
      }
      if (c === '"') {
        if (this.field.length === 0 && !this.quoted) {
          this.inQuotes = true;
          this.quoted = true;
        } else this.malformed ??= 'a quote inside an unquoted field';
      } else if (c === ',') this.endField();
      else if (c === '\n') yield* this.endRecord();
      else if (c === '\r') {
        // dropped: CRLF line ends (a bare CR inside an unquoted field is not meaningful CSV)
      } else {
        if (this.quoted) this.malformed ??= 'text after a closing quote';
        this.field += c;
      }
    }
  }

  *end(): Generator<InputRecord> {
    if (this.skipping) return;
    if (this.quotePending) {
      this.quotePending = false;
      this.inQuotes = false;
    }
    if (this.inQuotes) {
      yield { record: ++this.record, kind: 'malformed', reason: 'unterminated quoted field at the end of the input' };
      this.reset();
      return;
    }
    if (this.fields.length > 0 || this.field.length > 0 || this.quoted) yield* this.endRecord();
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.quoted = false;
  }

  private *endRecord(): Generator<InputRecord> {
    this.endField();
    const fields = this.fields;
    const malformed = this.malformed;
    this.reset();
    if (fields.length === 1 && fields[0] === '') return; // blank line
    this.record += 1;
    if (malformed) yield { record: this.record, kind: 'malformed', reason: malformed };
    else yield { record: this.record, kind: 'fields', fields };
  }

  private reset(): void {
    this.fields = [];
    this.field = '';
    this.quoted = false;
    this.inQuotes = false;
    this.quotePending = false;
    this.size = 0;
    this.malformed = undefined;
  }
}
