/**
 * A team scope limits a token to the tasks whose tags match it: for every key it names, the task's tag of that key
 * must be one of the values listed (keys ANDed, values of one key ORed). `team=erp` and `team=crm` together admit
 * both teams' tasks; `team=erp` and `env=prod` only the ERP team's production tasks. An unscoped token sees all.
 */
export type TeamScope = Readonly<Record<string, readonly string[]>>;

/** Thrown for a scope entry that is not `key=value`. */
export class TeamScopeError extends Error {}

/**
 * The scope of a list of `key=value` tags (a JWT claim, a static token's entry).
 * @throws {TeamScopeError} for an entry without `=` or with an empty key.
 */
export function parseTeamScope(tags: readonly string[]): TeamScope {
  const scope: Record<string, string[]> = {};
  for (const tag of tags) {
    const at = tag.indexOf('=');
    if (at <= 0) throw new TeamScopeError(`scope tag "${tag}" is not key=value`);
    const key = tag.slice(0, at);
    const value = tag.slice(at + 1);
    const values = (scope[key] ??= []);
    if (!values.includes(value)) values.push(value);
  }
  return scope;
}

/** True when tags (`key=value` strings) match the scope: every key's tag is one of its values. */
export function tagsInScope(scope: TeamScope, tags: readonly string[]): boolean {
  return Object.entries(scope).every(([key, values]) => values.some((value) => tags.includes(`${key}=${value}`)));
}

/** True when every task `inner` admits is admitted by `outer`: each of outer's keys is narrowed by inner. */
export function scopeWithin(inner: TeamScope, outer: TeamScope): boolean {
  return Object.entries(outer).every(
    ([key, values]) => inner[key] !== undefined && inner[key].every((value) => values.includes(value)),
  );
}

/** The scope as its tags, for messages: `team=erp, team=crm`. */
export const scopeText = (scope: TeamScope): string =>
  Object.entries(scope)
    .flatMap(([key, values]) => values.map((value) => `${key}=${value}`))
    .join(', ');

/** A task's tags as the `key=value` strings a scope is matched against. */
export const tagStrings = (tags: Readonly<Record<string, string>> | undefined): string[] =>
  Object.entries(tags ?? {}).map(([key, value]) => `${key}=${value}`);
