import { setTimeout } from 'node:timers/promises';

/**
 * Resolves after `ms`. With a `signal` (a handler's `ctx.signal`), rejects as soon as it aborts, with its reason
 * when that is an Error, so a handler being cancelled or timed out stops at once.
 */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await setTimeout(ms, undefined, signal ? { signal } : undefined);
  } catch (error) {
    if (!signal?.aborted) throw error;
    throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
  }
}
