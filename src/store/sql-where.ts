/**
 * A WHERE clause for hand-written SQL (`?` placeholders), built from optional filters with its
 * parameters kept in step. The metering store writes its queries by hand for speed; this keeps each
 * filter shape (an optional equality, an IN list, a keyset cursor) written once instead of per query.
 * Clauses are joined with `and` in the order they were added, so the SQL text stays predictable
 * (the SQLite statement cache and PostgreSQL's plans see the same texts as before).
 */
export class SqlWhere {
  private constructor(
    private readonly clauses: string[],
    readonly params: unknown[],
  ) {}

  static of(clause: string, ...params: unknown[]): SqlWhere {
    return new SqlWhere([clause], params);
  }

  /** A clause that always applies. */
  and(clause: string, ...params: unknown[]): this {
    this.clauses.push(clause);
    this.params.push(...params);
    return this;
  }

  /** A one-parameter clause (`metric = ?`, `ts >= ?`) when the value is given; an absent filter matches everything. */
  andIfSet(clause: string, value: unknown): this {
    return value === undefined ? this : this.and(clause, value);
  }

  /** `column in (?, …)` when the list has members; an absent or empty list matches everything. */
  andIn(column: string, values: readonly unknown[] | undefined): this {
    if (!values || values.length === 0) return this;
    return this.and(`${column} in (${values.map(() => '?').join(',')})`, ...values);
  }

  /**
   * Rows beyond a keyset position (first, second) in the given order: `asc` = after it, `desc` =
   * before it. `inclusive` keeps the position's own row (a page that resumes at a boundary it read).
   */
  andBeyond(columns: readonly [string, string], position: readonly [unknown, unknown] | undefined, order: 'asc' | 'desc', inclusive = false): this {
    if (position === undefined) return this;
    const [first, second] = columns;
    const op = order === 'asc' ? '>' : '<';
    return this.and(`(${first} ${op} ? or (${first} = ? and ${second} ${op}${inclusive ? '=' : ''} ?))`, position[0], position[0], position[1]);
  }

  /** An independent copy to extend (a query that adds filters to a shared base). */
  copy(): SqlWhere {
    return new SqlWhere([...this.clauses], [...this.params]);
  }

  /** The conditions, without the WHERE keyword. */
  toString(): string {
    return this.clauses.join(' and ');
  }
}
