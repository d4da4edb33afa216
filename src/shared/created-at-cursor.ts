/**
 * The opaque cursor of lists ordered newest first by (createdAt, id): base64url of "createdAt:id".
 * Ids are generated (shared/ids.ts), so the alphabet check refuses anything a client made up.
 */
export function encodeCreatedAtCursor(row: { createdAt: number; id: string }): string {
  return Buffer.from(`${row.createdAt}:${row.id}`).toString('base64url');
}

/** The position a cursor names, or undefined when it is not one of ours. */
export function decodeCreatedAtCursor(cursor: string): { createdAt: number; id: string } | undefined {
  const m = /^(\d{1,16}):([A-Za-z0-9_]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? { createdAt: Number(m[1]), id: m[2]! } : undefined;
}
