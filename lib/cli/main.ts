#!/usr/bin/env node
/**
 * hiksync command-line entry. Parsing errors are usage errors (exit 64, one line); everything a command throws
 * is mapped to an exit code in ONE place (lib/errors.ts: exitCodeFor).
 */
import { readFileSync } from 'node:fs';
import { Builtins, Cli } from 'clipanion';
import { describeError, ExitCode, exitCodeFor } from '../errors.js';
import { exitWhenDone } from '../ops/exit.js';
import { applyPuidPgid } from '../ops/privileges.js';
import { HealthCommand } from './commands/health.js';
import { InspectCommand } from './commands/inspect.js';
import { RetentionCommand } from './commands/retention.js';
import { RunCommand } from './commands/run.js';
import { ScanCommand } from './commands/scan.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

/**
 * clipanion 3.2 shows every option's value as `#0` in help (`--input #0`), with no setting to name it. Help text is
 * only ever made by usage(): the value is named after its option there (`--input <input>`).
 */
class HiksyncCli extends Cli {
  override usage(...args: Parameters<Cli['usage']>): string {
    const named = super.usage(...args).replace(/(--([a-z][a-z0-9-]*)) #0/g, '$1 <$2>');
    return alignOptionRows(named);
  }
}

/** The option rows ("  --input <input>   Camera share ...") lined up again after their names grew. */
function alignOptionRows(text: string): string {
  const row = /^ {2}(-[^ ].*?) {2,}(\S.*)$/;
  const lines = text.split('\n');
  const width = Math.max(0, ...lines.map((l) => row.exec(l)?.[1]?.length ?? 0));
  return lines
    .map((l) => l.replace(row, (_all, def: string, desc: string) => `  ${def.padEnd(width)}  ${desc}`))
    .join('\n');
}

export function buildCli(): Cli {
  const cli = new HiksyncCli({
    binaryName: 'hiksync',
    binaryLabel: 'hiksync',
    binaryVersion: pkg.version,
    enableColors: false,
  });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  cli.register(ScanCommand);
  cli.register(RunCommand);
  cli.register(RetentionCommand);
  cli.register(HealthCommand);
  cli.register(InspectCommand);
  return cli;
}

async function main(argv: string[]): Promise<number> {
  // PUID/PGID first: nothing may be read or written as root (lib/ops/privileges.ts).
  try {
    const { note } = applyPuidPgid(process.env);
    if (note?.includes('ignored')) process.stderr.write(`hiksync: ${note}\n`);
  } catch (err) {
    process.stderr.write(describeError(err) + '\n');
    return exitCodeFor(err);
  }
  const cli = buildCli();
  // `hiksync help [command]` is what people type: the same as `hiksync [command] --help`.
  const args = argv[0] === 'help' ? [...argv.slice(1), '--help'] : argv;
  let command;
  try {
    command = cli.process(args, Cli.defaultContext);
  } catch (err) {
    process.stderr.write(`hiksync: ${usageMessage(err, args, cli)} (see hiksync --help)\n`);
    return ExitCode.USAGE;
  }
  try {
    return await cli.run(command, Cli.defaultContext);
  } catch (err) {
    return exitCodeFor(err);
  }
}

/**
 * The one line for a command line clipanion refused. Its "Command not found; did you mean one of:" is followed by a
 * list that is empty when nothing is close, so an unknown command is told in our words with every command named.
 */
function usageMessage(err: unknown, argv: readonly string[], cli: Cli): string {
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  if (!message.startsWith('Command not found')) return message;
  const commands = cli
    .definitions()
    .map((d) => d.path.split(' ').slice(1).join(' '))
    .filter((p) => p.length > 0 && !p.startsWith('-'));
  return `unknown command ${JSON.stringify(argv[0] ?? '')}; commands: ${commands.join(', ')}`;
}

/**
 * A reader that stops early (`hiksync scan | head -1`) closes the pipe: the rest of the output has nowhere to go.
 * That is the reader's choice, not an error: stop quietly, as command-line tools killed by SIGPIPE do, instead of
 * an unhandled 'write EPIPE' stack trace.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? ExitCode.OK);
    throw err;
  });
}

exitQuietlyOnClosedPipe(process.stdout);
// The process normally ends by itself; one held by a file-system call that never returns is ended (lib/ops/exit.ts).
exitWhenDone(await main(process.argv.slice(2)), { write: (line) => process.stderr.write(line) });
