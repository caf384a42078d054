import { allHandlersFinished, condition, continueAsNew, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import {
  ackUpdate,
  addSilenceUpdate,
  admitUpdate,
  alertRecoveries,
  escalateUpdate,
  openAlertsQuery,
  raiseUpdate,
  removeSilenceUpdate,
  silencesQuery,
  type AdmitRequest,
  type AlertStateSnapshot,
  type NewSilence,
  type OpenAlert,
  type RaiseRequest,
  type RaiseResult,
  type Silence,
} from '../contract/alert.js';
import { tagsInScope } from '../contract/team-scope.js';

/** True when `silence` is active at `now` and matches every field it names. */
export function silences(silence: Silence, request: AdmitRequest, now: number): boolean {
  const { match } = silence;
  return (
    Date.parse(silence.startsAt) <= now &&
    now < Date.parse(silence.endsAt) &&
    (match.taskId === undefined || match.taskId === request.alert.taskId) &&
    (match.severity === undefined || match.severity === request.alert.severity) &&
    (match.tag === undefined || request.tags.includes(match.tag)) &&
    (match.scope === undefined || tagsInScope(match.scope, request.tags))
  );
}

/**
 * Raises a condition into the open alerts: a new one is sent; one still open is sent again once its re-alert
 * interval has passed since the last delivery, unless acknowledged.
 */
export function raise(
  open: Record<string, OpenAlert>,
  request: RaiseRequest,
  now: number,
  id: () => string,
): RaiseResult {
  const { alert } = request;
  const key = `${alert.taskId}/${alert.event}`;
  const at = new Date(now).toISOString();
  const existing = open[key];
  if (existing) {
    existing.lastSeenAt = at;
    const result = { id: existing.id, repeat: true, severity: existing.severity };
    if (existing.acknowledged) return { ...result, decision: 'acknowledged' };
    if (now - Date.parse(existing.lastSentAt) < existing.reAlertMs) return { ...result, decision: 'deduplicated' };
    existing.lastSentAt = at;
    existing.sent += 1;
    return { ...result, decision: 'send' };
  }
  const reAlertMs = request.reAlertMs ?? request.windowMs;
  open[key] = {
    id: id(),
    taskId: alert.taskId,
    event: alert.event,
    severity: alert.severity,
    summary: alert.summary,
    tags: request.tags,
    firstAt: at,
    lastSentAt: at,
    lastSeenAt: at,
    sent: 1,
    // A condition re-raised by every watchdog round stays open; one quiet for this long has cleared.
    quietMs: Math.max(request.windowMs, reAlertMs),
    reAlertMs,
    escalations: [],
  };
  return { decision: 'send', id: open[key].id, repeat: false, severity: alert.severity };
}

/** Clears the open alerts whose condition was not raised again within their quiet period. */
export function clearQuiet(open: Record<string, OpenAlert>, now: number): void {
  for (const [key, alert] of Object.entries(open))
    if (now - Date.parse(alert.lastSeenAt) > alert.quietMs) delete open[key];
}

/**
 * The one place alert noise is decided, shared by every worker: silences, dedup windows, open alerts with their
 * re-alerts, acknowledgements and escalations. A single workflow handles updates one at a time, so two workers
 * reporting the same failure at once still send one alert. It continues as new when its history grows, carrying its
 * state.
 */
export async function alertState(snapshot: AlertStateSnapshot = { silences: [], lastSent: {} }): Promise<void> {
  const state: AlertStateSnapshot & { open: Record<string, OpenAlert> } = {
    silences: [...snapshot.silences],
    lastSent: { ...snapshot.lastSent },
    open: { ...snapshot.open },
  };
  const prune = (now: number): void => {
    state.silences = state.silences.filter((s) => Date.parse(s.endsAt) > now);
    for (const [key, at] of Object.entries(state.lastSent)) if (now - at > 86_400_000) delete state.lastSent[key];
    clearQuiet(state.open, now);
  };
  const byId = (id: string): OpenAlert | undefined => Object.values(state.open).find((alert) => alert.id === id);
  setHandler(openAlertsQuery, () =>
    Object.values(state.open)
      .filter((alert) => Date.now() - Date.parse(alert.lastSeenAt) <= alert.quietMs)
      .sort((a, b) => Date.parse(b.firstAt) - Date.parse(a.firstAt)),
  );
  setHandler(raiseUpdate, (request) => {
    const now = Date.now();
    prune(now);
    if (state.silences.some((s) => silences(s, request, now)))
      return { decision: 'silenced', repeat: false, severity: request.alert.severity };
    const { taskId, event } = request.alert;
    for (const e of alertRecoveries[event] ?? []) delete state.open[`${taskId}/${e}`];
    return raise(state.open, request, now, uuid4);
  });
  setHandler(ackUpdate, ({ id, by, note }) => {
    prune(Date.now());
    const alert = byId(id);
    if (alert) alert.acknowledged ??= { by, at: new Date().toISOString(), ...(note ? { note } : {}) };
    return alert;
  });
  setHandler(escalateUpdate, ({ id, to }) => {
    prune(Date.now());
    const alert = byId(id);
    if (!alert || alert.acknowledged) return false;
    alert.severity = to;
    alert.escalations.push({ to, at: new Date().toISOString() });
    return true;
  });
  setHandler(silencesQuery, () => state.silences.filter((s) => Date.parse(s.endsAt) > Date.now()));
  setHandler(
    addSilenceUpdate,
    (input) => {
      const now = new Date();
      const silence: Silence = {
        ...input,
        id: uuid4(),
        startsAt: input.startsAt ?? now.toISOString(),
        createdAt: now.toISOString(),
      };
      state.silences.push(silence);
      return silence;
    },
    {
      validator: (input: NewSilence) => {
        if (!(Date.parse(input.endsAt) > Date.parse(input.startsAt ?? new Date().toISOString()))) {
          throw new Error('endsAt must be after startsAt (and in the future)');
        }
      },
    },
  );
  setHandler(removeSilenceUpdate, (id) => {
    const before = state.silences.length;
    state.silences = state.silences.filter((s) => s.id !== id);
    return state.silences.length < before;
  });
  setHandler(admitUpdate, (request) => {
    const now = Date.now();
    prune(now);
    const { taskId, event } = request.alert;
    if (state.silences.some((s) => silences(s, request, now))) return 'silenced';
    const key = `${taskId}/${event}`;
    const last = state.lastSent[key];
    if (last !== undefined && now - last < request.windowMs) return 'deduplicated';
    state.lastSent[key] = now;
    for (const e of alertRecoveries[event] ?? []) delete state.lastSent[`${taskId}/${e}`];
    return 'send';
  });
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 5_000);
  await condition(allHandlersFinished);
  prune(Date.now());
  await continueAsNew<typeof alertState>(state);
}
