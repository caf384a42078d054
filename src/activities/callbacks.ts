import { postJson } from '../alerting/channels/http.js';
import { signWebhook } from '../alerting/channels/webhook.js';
import type { RunOutcome } from '../contract/run.js';
import type { HttpGuard } from '../security/http-guard.js';

export interface CallbackDeps {
  /** `SURECRON_CALLBACK_SECRET`: signs callbacks like webhook alerts; unsigned without it. */
  secret?: string;
  http: HttpGuard;
}

/** Activities that call a task's `notify` URLs when a run ends. */
export function createCallbackActivities({ secret, http }: CallbackDeps) {
  return {
    /**
     * POSTs `{ taskId, nominalTime, status, attempts, durationMs, result | error }` to `url`, signed with
     * `X-Surecron-Signature` (HMAC-SHA256 over `<timestamp>.<body>`, as generic webhook alerts are).
     */
    async notifyCallback({ url, payload }: { url: string; payload: RunOutcome }): Promise<void> {
      const refused = http.refuse(url);
      if (refused) throw new Error(`callback target refused: ${refused}`);
      const { taskId, nominalTime, status, attempts, durationMs, result, error } = payload;
      const body = JSON.stringify({
        taskId,
        nominalTime,
        status,
        attempts,
        durationMs,
        ...(status === 'succeeded' ? { result } : { error }),
      });
      const timestamp = Math.floor(Date.now() / 1000);
      const headers: Record<string, string> = secret
        ? { 'x-surecron-timestamp': String(timestamp), 'x-surecron-signature': signWebhook(secret, timestamp, body) }
        : {};
      await postJson('callback', url, body, {}, headers);
    },
  };
}
