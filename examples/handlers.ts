import type { HandlerRegistry } from '../src/activities/handler.js';
import { InMemorySessions, type SessionStore } from './sessions.js';

/** Where `reportMetrics` sends its figures. */
export interface MetricsSink {
  /** Records one report; `key` is the run's idempotency key, so a retried attempt reports under the same key. */
  report(key: string, figures: Record<string, number>): Promise<void>;
}

export interface ExampleHandlerDeps {
  sessions?: SessionStore;
  metrics?: MetricsSink;
}

/** Sessions deleted per batch: the cleanup heartbeats after each one. */
export const CLEANUP_BATCH_SIZE = 100;

/**
 * The function handlers from the articles surecron grew from: a cleanup of expired sessions and a periodic
 * metrics report. Without a session store they use an in-memory one; without a sink the report is logged.
 */
export function createExampleHandlers({
  sessions = new InMemorySessions(),
  metrics,
}: ExampleHandlerDeps = {}): HandlerRegistry {
  return {
    /**
     * Deletes the sessions that expired before the fire's nominal time, in batches. After each batch it
     * heartbeats the running total: a retried attempt resumes counting from there, and a cancellation stops the
     * cleanup between two batches.
     */
    cleanupExpiredSessions: async (_input, context) => {
      const { nominalTime, heartbeatDetails, signal, log } = context;
      let deleted = (heartbeatDetails as { deleted?: number } | undefined)?.deleted ?? 0;
      for (;;) {
        signal.throwIfAborted();
        const batch = await sessions.deleteExpired(new Date(nominalTime), CLEANUP_BATCH_SIZE);
        deleted += batch;
        context.heartbeat({ deleted });
        if (batch < CLEANUP_BATCH_SIZE) break;
      }
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
