import { randomBytes } from 'node:crypto';

/**
 * JSON with exact numbers. `JSON.parse` turns every number into a double: fine up to 15 significant
 * digits (such a literal always prints back as itself), silently wrong beyond (123456789012.3456789
 * becomes …012.34568). So a body is first scanned for digit runs that long; only when one exists is
 * it re-tokenised and each long number handed over as an `ExactNumber` holding the literal, which
 * the quantity parser reads exactly (or refuses). The common body pays one regex test.
 */
export class ExactNumber {
  constructor(readonly literal: string) {}
}

/** 16+ characters of digits and dots: any number literal that might not survive a double. */
const LONG_NUMBER = /[0-9][0-9.]{15}/;
const NUMBER_TOKEN = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
/** Marks rewritten numbers inside the text handed to JSON.parse; random per process, so unguessable. */
const MARK = `\u0001${randomBytes(12).toString('hex')}:`;
const MARK_JSON = JSON.stringify(MARK).slice(1, -1);
const MARKED = new RegExp(`"${MARK_JSON.replace(/\\/g, '\\\\')}([-0-9.eE+]+)"`, 'g');

export interface ExactJson {
  value: unknown;
  /** True when the document holds at least one ExactNumber. */
  exact: boolean;
}

/** Throws SyntaxError like JSON.parse on invalid JSON. */
export function parseJsonExact(text: string): ExactJson {
  if (!LONG_NUMBER.test(text)) return { value: JSON.parse(text), exact: false };
  const rewritten = markLongNumbers(text);
  if (rewritten === text) return { value: JSON.parse(text), exact: false };
  const value: unknown = JSON.parse(rewritten, (_key, v: unknown) =>
    typeof v === 'string' && v.startsWith(MARK) ? new ExactNumber(v.slice(MARK.length)) : v,
  );
  return { value, exact: true };
}

/** JSON text of a value that may hold ExactNumbers, each written back as its original literal. */
export function stringifyJsonExact(value: unknown, exact: boolean): string {
  if (!exact) return JSON.stringify(value);
  const text = JSON.stringify(value, (_key, v: unknown) => (v instanceof ExactNumber ? MARK + v.literal : v));
  return text.replace(MARKED, '$1');
}

/** Rewrites number tokens with more than 15 digits, outside strings, as marked strings. */
function markLongNumbers(text: string): string {
  let out = '';
  let copiedTo = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string, honouring escapes; an unterminated one is left for JSON.parse to refuse.
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) {
          i++;
          break;
        } else i++;
      }
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      NUMBER_TOKEN.lastIndex = i;
      const m = NUMBER_TOKEN.exec(text);
      if (!m) {
        i++;
        continue;
      }
      const token = m[0];
      const mantissa = token.replace(/[eE].*$/, '');
      if (mantissa.replace(/[^0-9]/g, '').length > 15) {
        out += text.slice(copiedTo, i) + JSON.stringify(MARK + token);
        copiedTo = i + token.length;
      }
      i += token.length;
      continue;
    }
    i++;
  }
  return copiedTo === 0 ? text : out + text.slice(copiedTo);
}
