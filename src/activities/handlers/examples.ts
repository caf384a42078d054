import type { HandlerRegistry } from '../handler.js';

/** A session store, as the seed articles' cleanup job uses; tests inject their own. */
export interface SessionStore {
  /** Deletes sessions that expired before `now`; returns how many went. Must be idempotent. */
  deleteExpired(now: Date): Promise<number>;
}

/** Where `reportMetrics` sends its figures. */
export interface MetricsSink {
  report(key: string, figures: Record<string, number>): Promise<void>;
}

export interface ExampleDeps {
  sessions?: SessionStore;
  metrics?: MetricsSink;
}

class InMemorySessions implements SessionStore {
  private readonly expiries = new Map<string, number>();
  deleteExpired(now: Date): Promise<number> {
    let deleted = 0;
    for (const [id, expiresAt] of this.expiries) {
      if (expiresAt < now.getTime()) {
        this.expiries.delete(id);
        deleted += 1;
      }
    }
    return Promise.resolve(deleted);
  }
}

/**
 * The example handlers from the articles surecron grew from: a heartbeat to show the pipeline works, a cleanup
 * of expired sessions and a periodic metrics report.
 */
export function createExampleHandlers({
  sessions = new InMemorySessions(),
  metrics,
}: ExampleDeps = {}): HandlerRegistry {
  return {
    heartbeat: async (_input, { log, nominalTime, attempt }) => {
      log.info({ nominalTime, attempt }, 'surecron example heartbeat');
      return Promise.resolve({ ok: true, nominalTime });
    },
    cleanupExpiredSessions: async (_input, { nominalTime, log }) => {
      const deleted = await sessions.deleteExpired(new Date(nominalTime));
      log.info({ deleted }, 'expired sessions removed');
      return { deleted };
    },
    reportMetrics: async (_input, { idempotencyKey, log }) => {
      const memory = process.memoryUsage();
      const figures = {
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        uptimeSeconds: Math.round(process.uptime()),
      };
      if (metrics) await metrics.report(idempotencyKey, figures);
      else log.info(figures, 'metrics report');
      return figures;
    },
  };
}
