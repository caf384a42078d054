import Table from 'cli-table3';

/** A table cell: text, or empty for null/undefined. */
export type Cell = string | number | boolean | null | undefined;

const plainChars = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

const text = (cell: Cell): string => (cell === null || cell === undefined ? '' : String(cell));

/**
 * Where command results go: `--json` prints the API's body verbatim; otherwise a bordered table on a terminal
 * and compact, borderless, uncoloured columns when stdout is piped.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly tty = Boolean(process.stdout.isTTY),
  ) {}

  /** Prints `data` as JSON with `--json`, else the text `human` renders. */
  print(data: unknown, human: () => string): void {
    process.stdout.write(this.json ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
  }

  /** A human-only result line on stdout (e.g. after a 204); nothing with `--json`. */
  message(text: string): void {
    if (!this.json) process.stdout.write(`${text}\n`);
  }

  /** A human-only message on stderr (pagination hints, confirmations), kept out of piped stdout. */
  note(text: string): void {
    if (!this.json) process.stderr.write(`${text}\n`);
  }

  /** Renders rows under a header. */
  table(head: string[], rows: Cell[][]): string {
    if (rows.length === 0) return '(none)';
    const table = this.tty
      ? new Table({ head, style: process.env.NO_COLOR ? { head: [], border: [] } : { head: ['cyan'] } })
      : new Table({ head, chars: plainChars, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 } });
    table.push(...rows.map((row) => row.map(text)));
    return this.tty ? table.toString() : table.toString().replace(/[ \t]+$/gm, '');
  }

  /** Renders name/value pairs, one per line. */
  details(pairs: [string, Cell][]): string {
    const width = Math.max(...pairs.map(([name]) => name.length));
    return pairs.map(([name, value]) => `${`${name}:`.padEnd(width + 2)}${text(value)}`).join('\n');
  }
}
