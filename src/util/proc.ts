import { readFileSync } from 'node:fs';

/**
 * Fields of `/proc/<pid>/stat` after the command name (field 3, the state, onwards: `[1]` is the parent pid, `[2]`
 * the process group, `[11]`/`[12]` user and system CPU ticks), or undefined once the process is gone.
 */
export function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}
