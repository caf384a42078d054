import { scopeText, tagsInScope, tagStrings, type TeamScope } from '../contract/team-scope.js';
import { TaskNotFoundError } from '../tasks/errors.js';
import type { StoredTask, TaskStore } from '../tasks/store.js';
import { HttpProblem } from './problem.js';

/** True when a principal of this team scope (none: unscoped) reaches what carries these `key=value` tags. */
export const scopeAdmits = (scope: TeamScope | undefined, tags: readonly string[]): boolean =>
  !scope || tagsInScope(scope, tags);

/**
 * What a request's principal may reach. A team-scoped token sees only the tasks its scope admits: any other task
 * is answered as if it did not exist (404), so a team never learns another's task ids through reads; a spec whose
 * tags leave the scope is refused (403). An unscoped principal reaches every task.
 */
export class TeamAccess {
  constructor(
    private readonly store: TaskStore,
    readonly scope: TeamScope | undefined,
    private readonly name: string,
  ) {}

  static of(request: { principal?: { name: string; teamScope?: TeamScope } }, store: TaskStore): TeamAccess {
    return new TeamAccess(store, request.principal?.teamScope, request.principal?.name ?? 'unknown');
  }

  /** True when a task with these tags is within reach. */
  admits(tags: Readonly<Record<string, string>> | undefined): boolean {
    return scopeAdmits(this.scope, tagStrings(tags));
  }

  /** True when a run whose input carries these `key=value` tags is within reach (its task's tags when it started). */
  admitsRun(tags: readonly string[] | undefined): boolean {
    return scopeAdmits(this.scope, tags ?? []);
  }

  /**
   * The task, when within reach.
   * @throws {TaskNotFoundError} for a task outside the scope, as for one that does not exist.
   */
  async task(id: string): Promise<StoredTask> {
    const task = await this.store.get(id);
    if (!this.admits(task.spec.tags)) throw new TaskNotFoundError(id);
    return task;
  }

  /**
   * For a scoped principal, that the task exists and is within reach; for others nothing (the route reads it anyway).
   * @throws {TaskNotFoundError} as {@link task}.
   */
  async requireTask(id: string): Promise<void> {
    if (this.scope) await this.task(id);
  }

  /**
   * Refuses a spec the principal could not see once written: a create, replace or apply must keep the task in scope.
   * @throws {HttpProblem} 403 naming the scope.
   */
  requireSpec(spec: { id: string; tags?: Readonly<Record<string, string>> }): void {
    if (this.scope && !this.admits(spec.tags))
      throw new HttpProblem(
        403,
        'Forbidden',
        `token "${this.name}" is limited to tasks tagged ${scopeText(this.scope)}; task ${spec.id}'s tags are outside it`,
      );
  }

  /**
   * Refuses a create-or-replace that would leave the scope, or overwrite a task outside it (answered 404, as a read).
   * @throws {HttpProblem} 403 for a spec outside the scope.
   * @throws {TaskNotFoundError} for an existing task outside it.
   */
  async requireWritable(spec: { id: string; tags?: Readonly<Record<string, string>> }): Promise<void> {
    this.requireSpec(spec);
    if (!this.scope) return;
    const existing = await this.store.get(spec.id).catch((error: unknown) => {
      if (error instanceof TaskNotFoundError) return undefined;
      throw error;
    });
    if (existing && !this.admits(existing.spec.tags)) throw new TaskNotFoundError(spec.id);
  }

  /**
   * Refuses what carries no tags (one-off jobs) to a scoped principal.
   * @throws {HttpProblem} 403.
   */
  requireUnscoped(what: string): void {
    if (this.scope)
      throw new HttpProblem(
        403,
        'Forbidden',
        `token "${this.name}" is limited to tasks tagged ${scopeText(this.scope)}; ${what} carry no tags`,
      );
  }

  /** The ids of the tasks within reach, or undefined when every task is. */
  async taskIds(): Promise<string[] | undefined> {
    return this.scope ? this.store.listIds(undefined, { scope: this.scope }) : undefined;
  }
}
