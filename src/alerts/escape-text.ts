/**
 * Escaping for each destination's markup. Summaries carry Stripe data (customer ids, descriptions)
 * and channel names are typed by tenants, so none of it may become a link, a mention or markup.
 */

/** Slack mrkdwn: `&`, `<`, `>` are the control characters (`<!channel>`, `<url|text>`). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Discord markdown: backslash-escape the characters that format, quote, link or mask. Mentions
 * are neutralised separately by `allowed_mentions: {parse: []}` on every message.
 */
export function escapeDiscord(text: string): string {
  return text.replace(/([\\`*_~|>#\-[\]()<:@])/g, '\\$1');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** One line: control characters (CR/LF included, header injection) become spaces. */
export function singleLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();
}

/** At most `max` characters (code points), with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Escapes `text` and cuts the result to at most `max` characters without splitting an escape
 * (`&amp;`, `\*`): escaping can multiply the length, so cutting before escaping is not enough.
 */
export function fitEscaped(text: string, max: number, escape: (s: string) => string): string {
  const whole = escape(text);
  if (whole.length <= max) return whole;
  let out = '';
  for (const ch of text) {
    const piece = escape(ch);
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return `${out}…`;
}
