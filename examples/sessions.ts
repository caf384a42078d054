/** A session store, as the seed articles' cleanup job uses it. */
export interface SessionStore {
  /** Deletes at most `limit` sessions that expired before `now`; returns how many went. Must be idempotent. */
  deleteExpired(now: Date, limit: number): Promise<number>;
}

/** Sessions kept in memory: the examples' stand-in for a real store. */
export class InMemorySessions implements SessionStore {
  private readonly expiries = new Map<string, number>();

  /** Adds (or replaces) a session that expires at `expiresAt`. */
  add(id: string, expiresAt: Date): this {
    this.expiries.set(id, expiresAt.getTime());
    return this;
  }

  /** The ids of the sessions still stored. */
  ids(): string[] {
    return [...this.expiries.keys()];
  }

  deleteExpired(now: Date, limit: number): Promise<number> {
    let deleted = 0;
    for (const [id, expiresAt] of this.expiries) {
      if (deleted === limit) break;
      if (expiresAt < now.getTime()) {
        this.expiries.delete(id);
        deleted += 1;
      }
    }
    return Promise.resolve(deleted);
  }
}
