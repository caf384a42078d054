import { Option, type Command } from 'commander';
import { scheduleSchema } from '../../tasks/spec.js';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { readDocument } from '../files.js';
import { count, check, isoTime, parser } from '../validate.js';

interface PreviewOptions {
  cron?: string[];
  every?: string;
  timezone?: string;
  file?: string;
  count?: number;
  from?: string;
}

interface Preview {
  runs: { at: string; local: string; dst?: string }[];
}

/** The schedule to preview, from the flags or the file, checked with the API's schema. */
async function scheduleFrom(options: PreviewOptions): Promise<unknown> {
  if (options.file !== undefined) {
    const schedule = await readDocument(options.file);
    check(scheduleSchema, schedule, `schedule in ${options.file}`);
    return schedule;
  }
  const { cron, every, timezone } = options;
  if (!cron && every === undefined) throw new UsageError('preview needs --cron, --every or -f <schedule file>');
  const schedule = {
    ...(cron ? { cron: cron.length === 1 ? cron[0] : cron } : {}),
    ...(every !== undefined ? { every } : {}),
    ...(timezone !== undefined ? { timezone } : {}),
  };
  check(scheduleSchema, schedule, 'schedule');
  return schedule;
}

/** `surecron preview`: the next fire times of a schedule, computed by the server. */
export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('show when a schedule would fire')
    .addOption(new Option('--cron <expr...>', 'cron expression(s), each quoted').conflicts(['every', 'file']))
    .addOption(new Option('--every <duration>', 'fixed interval, e.g. 15m').conflicts('file'))
    .addOption(new Option('--timezone <zone>', 'IANA time zone for cron fields').conflicts('file'))
    .option('-f, --file <file>', 'schedule as JSON or YAML ("-" for stdin)')
    .option('--count <n>', 'how many fire times', parser(count))
    .option('--from <iso>', 'start from this instant instead of now', parser(isoTime))
    .action(async (options: PreviewOptions, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const request = {
        schedule: await scheduleFrom(options),
        ...(options.count !== undefined ? { count: options.count } : {}),
        ...(options.from !== undefined ? { from: options.from } : {}),
      };
      const { body } = await api.request<Preview>('POST', '/v1/preview', { body: request });
      out.print(body, () =>
        out.table(
          ['AT (UTC)', 'LOCAL', 'DST'],
          body.runs.map((run) => [run.at, run.local, run.dst]),
        ),
      );
    });
}
