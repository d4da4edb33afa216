/**
 * One page of a list that was read with `limit + 1` rows: the extra row is not returned, it only
 * says that another page follows, so the cursor is made from the page's last row.
 */
export function listPage<T>(rows: T[], limit: number, cursorOf: (last: T) => string): { page: T[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last ? cursorOf(last) : null };
}
