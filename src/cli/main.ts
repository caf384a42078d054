import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { isMain } from '../util/is-main.js';
import { registerAlerts } from './commands/alerts.js';
import { registerAudit } from './commands/audit.js';
import { registerDeadLetters } from './commands/dead-letters.js';
import { registerCircuits } from './commands/circuits.js';
import { registerGroups } from './commands/groups.js';
import { registerJobs } from './commands/jobs.js';
import { registerPreview } from './commands/preview.js';
import { registerSimulate } from './commands/simulate.js';
import { registerTasks } from './commands/tasks.js';
import { describeError } from './errors.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const oneLine = (text: string): string =>
  text
    .replace(/^error:\s*/, '')
    .replace(/\s*\n\s*/g, ' ')
    .trim();

/** The `surecron` program: global options, error output and every command. */
export function buildProgram(): Command {
  const program = new Command('surecron')
    .description('Manage surecron scheduled tasks through its REST API.')
    .version(version)
    .addOption(new Option('--url <url>', 'API base URL').env('SURECRON_URL').default('http://127.0.0.1:8080'))
    .addOption(new Option('--token <token>', 'API bearer token').env('SURECRON_TOKEN'))
    .option('--json', 'print the API response as JSON')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`surecron: ${oneLine(text)}\n`) });
  registerTasks(program);
  registerPreview(program);
  registerSimulate(program);
  registerJobs(program);
  registerAudit(program);
  registerDeadLetters(program);
  registerAlerts(program);
  registerGroups(program);
  registerCircuits(program);
  return program;
}

/**
 * Runs the CLI and resolves to its exit code: 0 success, 1 API or network failure, 2 usage or validation error.
 * Every failure is one line on stderr.
 */
export async function run(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    // Commander has already printed its own message (or help/version, exit code 0).
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    const { message, exitCode } = describeError(error);
    process.stderr.write(`surecron: ${message}\n`);
    return exitCode;
  }
}

if (isMain(import.meta.url)) {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
  });
  process.exitCode = await run(process.argv);
}
