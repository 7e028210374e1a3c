/**
 * The one base command: shared flags (--lake, --format/--csv/--json, --quiet), the exit-code
 * contract (0 ok, 1 failed, 2 usage or input error) and stderr helpers. No stack traces for a
 * user's mistake; GPUHEALTH_DEBUG=1 shows them.
 */
import { Command, Flags, type Interfaces } from '@oclif/core';
import { EXIT_FAILURE, EXIT_USAGE, GpuhealthError } from '../errors.js';
import { OUTPUT_FORMATS, printable, type OutputFormat, type TableOptions } from './output.js';
import { NO_PROGRESS, shouldShowProgress, terminalProgress, type ProgressFn } from '../progress.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>;
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

export const DEFAULT_LAKE = './gpuhealth-lake';

/** Where stdout is no terminal (a pipe, a file, cron) and $COLUMNS is unset, tables fit this width. */
const DEFAULT_TABLE_WIDTH = 120;

/**
 * The width human tables fit: $COLUMNS when set (`COLUMNS=80 gpuhealth score`), else the terminal's,
 * else DEFAULT_TABLE_WIDTH.
 */
function tableWidth(env: NodeJS.ProcessEnv, stdout: { isTTY?: boolean; columns?: number }): number {
  const columns = Number(env.COLUMNS);
  if (Number.isInteger(columns) && columns > 0) return columns;
  if (stdout.isTTY && stdout.columns) return stdout.columns;
  return DEFAULT_TABLE_WIDTH;
}

/** The flag of every command that prints a human table. */
export const tableFlags = {
  wide: Flags.boolean({
    summary: 'Print tables whole: full GPU UUIDs, every column, no wrapping, however wide they get.',
    description:
      'Without it, a table fits the terminal ($COLUMNS, else its width, else 120 columns): GPU UUIDs are cut to a prefix that tells the rows apart (GPU-1a2b3c4d…), which --gpu accepts as it is; long cells wrap; the least important columns are left out. CSV and JSON always carry everything.',
  }),
};

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override baseFlags = {
    lake: Flags.string({
      summary: 'Lake folder.',
      description: 'The Parquet lake this command reads and writes. Default ./gpuhealth-lake.',
      env: 'GPUHEALTH_LAKE',
      default: DEFAULT_LAKE,
      helpGroup: 'GLOBAL',
    }),
    format: Flags.option({
      summary: 'Output format for stdout.',
      options: OUTPUT_FORMATS,
      helpGroup: 'GLOBAL',
    })(),
    csv: Flags.boolean({ summary: 'Shorthand for --format csv.', exclusive: ['json', 'format'], helpGroup: 'GLOBAL' }),
    json: Flags.boolean({ summary: 'Shorthand for --format json.', exclusive: ['csv', 'format'], helpGroup: 'GLOBAL' }),
    quiet: Flags.boolean({ char: 'q', summary: 'No progress or notes on stderr; errors still print.', helpGroup: 'GLOBAL' }),
  };

  protected flags!: BaseFlags<T>;
  protected args!: BaseArgs<T>;
  /** Positional arguments after flag parsing (for commands with `strict = false`). */
  protected positional: string[] = [];

  public override async init(): Promise<void> {
    await super.init();
    const { args, flags, argv } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as BaseFlags<T>;
    this.args = args as BaseArgs<T>;
    this.positional = argv.map(String);
  }

  protected get outputFormat(): OutputFormat {
    const f = this.flags as { format?: OutputFormat; csv?: boolean; json?: boolean };
    if (f.json) return 'json';
    if (f.csv) return 'csv';
    return f.format ?? 'table';
  }

  protected get quiet(): boolean {
    return Boolean((this.flags as { quiet?: boolean }).quiet);
  }

  /** How human tables render: fit to the terminal, or whole with --wide. */
  protected get tableOptions(): TableOptions {
    return { wide: Boolean((this.flags as { wide?: boolean }).wide), width: tableWidth(process.env, process.stdout) };
  }

  protected get lakeDir(): string {
    return (this.flags as { lake: string }).lake;
  }

  /** Data for stdout. */
  protected out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Notes and summaries for stderr; silenced by --quiet. Control characters are shown escaped (they come from input files). */
  protected note(text: string): void {
    if (!this.quiet) process.stderr.write(printable(text.endsWith('\n') ? text : `${text}\n`));
  }

  protected makeProgress(): ProgressFn & { done(): void } {
    if (!shouldShowProgress(this.quiet)) return Object.assign(NO_PROGRESS, { done: () => {} });
    const progress = terminalProgress();
    return Object.assign((message: string) => progress(printable(message)), { done: progress.done });
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const debug = Boolean(process.env.GPUHEALTH_DEBUG);
    if (err instanceof GpuhealthError) {
      process.stderr.write(`Error: ${printable(err.message)}\n`);
      for (const s of err.suggestions) process.stderr.write(`  Try: ${printable(s)}\n`);
      if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exitCode = err.exitCode;
      return undefined;
    }
    // oclif's own errors (flag parsing, this.error, this.exit) carry their exit code already.
    if (err.oclif !== undefined) return super.catch(err);
    process.stderr.write(`Error: ${printable(err.message)}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    else process.stderr.write('  (set GPUHEALTH_DEBUG=1 for details)\n');
    process.exitCode = EXIT_FAILURE;
    return undefined;
  }
}

export { EXIT_USAGE };
