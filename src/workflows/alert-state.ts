import { allHandlersFinished, condition, continueAsNew, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import {
  addSilenceUpdate,
  admitUpdate,
  removeSilenceUpdate,
  silencesQuery,
  type AdmitRequest,
  type AlertStateSnapshot,
  type NewSilence,
  type Silence,
} from '../contract/alert.js';

const failureEvents = ['run_failed', 'consecutive_failures'];

/** True when `silence` is active at `now` and matches every field it names. */
export function silences(silence: Silence, request: AdmitRequest, now: number): boolean {
  const { match } = silence;
  return (
    Date.parse(silence.startsAt) <= now &&
    now < Date.parse(silence.endsAt) &&
    (match.taskId === undefined || match.taskId === request.alert.taskId) &&
    (match.severity === undefined || match.severity === request.alert.severity) &&
    (match.tag === undefined || request.tags.includes(match.tag))
  );
}

/**
 * The one place alert noise is decided, shared by every worker: silences and dedup windows. A single workflow
 * handles updates one at a time, so two workers reporting the same failure at once still send one alert. It
 * continues as new when its history grows, carrying its state.
 */
export async function alertState(snapshot: AlertStateSnapshot = { silences: [], lastSent: {} }): Promise<void> {
  const state: AlertStateSnapshot = { silences: [...snapshot.silences], lastSent: { ...snapshot.lastSent } };
  const prune = (now: number): void => {
    state.silences = state.silences.filter((s) => Date.parse(s.endsAt) > now);
    for (const [key, at] of Object.entries(state.lastSent)) if (now - at > 86_400_000) delete state.lastSent[key];
  };
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
    // A recovery closes the incident: the next failure is news again.
    if (event === 'task_recovered') for (const e of failureEvents) delete state.lastSent[`${taskId}/${e}`];
    return 'send';
  });
  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 5_000);
  await condition(allHandlersFinished);
  prune(Date.now());
  await continueAsNew<typeof alertState>(state);
}
