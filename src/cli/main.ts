#!/usr/bin/env node
// The `provenant` command line: builds the command tree (one file per command
// group under ./commands) and runs it. Every command has --help.
//
// Exit codes: what the command returns (see its --help); 2 on a usage error
// (unknown command or option, missing argument) and on a ProvenantError such as
// CONFIG_INVALID, printed as one line without a stack trace; 141 when the reader
// of its output went away (a closed pipe).
import { Command, CommanderError } from 'commander';
import { isProvenantError } from '../errors.js';
import { configureTree, exitCodesHelp, USAGE_ERROR, version } from './shared.js';

/**
 * The commands, each loaded only when it runs: a command's module pulls in what
 * it needs (fastify, the stores, sigstore, pg), and loading all of them costs
 * about a second at every start. Help without a command loads them all.
 */
const commands: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./commands/serve.js')).serveCommand(),
  log: async () => (await import('./commands/log.js')).logCommand(),
  projections: async () => (await import('./commands/projections.js')).projectionsCommand(),
  verify: async () => (await import('./commands/verify.js')).verifyCommand(),
  keys: async () => (await import('./commands/keys.js')).keysCommand(),
  tokens: async () => (await import('./commands/tokens.js')).tokensCommand(),
  'verify-bundle': async () => (await import('./commands/verifyBundle.js')).verifyBundleCommand(),
  export: async () => (await import('./commands/export.js')).exportCommand(),
  'verify-export': async () => (await import('./commands/export.js')).verifyExportCommand(),
  replay: async () => (await import('./commands/replay.js')).replayCommand(),
  'sign-event': async () => (await import('./commands/signEvent.js')).signEventCommand(),
  backup: async () => (await import('./commands/backup.js')).backupCommand(),
};

/** The command tree: only the named command when it is known, else every command. */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('provenant')
    .description(
      `provenant ${version}: event-sourced audit and provenance store for software delivery pipelines`,
    )
    .usage('[command] [options]')
    .version(version, '-v, --version', 'print the version')
    .addHelpText(
      'after',
      `
Without a command, provenant runs 'serve'.
Run 'provenant <command> --help' (or 'provenant help <command>') for a command's
options, environment and exit codes.

${exitCodesHelp([
  [0, 'success'],
  [
    1,
    'the command found a problem (e.g. log verify: a broken link; verify, verify-bundle, verify-export: invalid)',
  ],
  [2, 'usage or configuration error'],
  [3, 'verify: could not check (the store cannot be reached)'],
  [141, 'the reader of the output went away (a closed pipe, as with SIGPIPE)'],
])}
`,
    );
  const named = only !== undefined && Object.hasOwn(commands, only) ? commands[only] : undefined;
  const makers = named === undefined ? Object.values(commands) : [named];
  for (const command of await Promise.all(makers.map((make) => make())))
    program.addCommand(command);
  configureTree(program);
  return program;
}

/** An error of a system call (a file or directory), as Node reports them. */
const isSystemError = (error: unknown): error is NodeJS.ErrnoException =>
  error instanceof Error &&
  typeof (error as NodeJS.ErrnoException).code === 'string' &&
  typeof (error as NodeJS.ErrnoException).syscall === 'string';

async function main(argv: string[]): Promise<void> {
  try {
    const args = argv.length === 0 ? ['serve'] : argv;
    await (await buildProgram(args[0])).parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with 0; usage errors were already printed.
      process.exitCode = error.exitCode === 0 ? 0 : USAGE_ERROR;
    } else if (isProvenantError(error)) {
      console.error(`provenant: ${error.code}: ${error.message}`);
      process.exitCode = USAGE_ERROR;
    } else if (isSystemError(error)) {
      // The operating system refused a path it was given (ENOTDIR, EACCES, ENOSPC …):
      // Node's message names the code, the call and the path; a stack says nothing more.
      console.error(`provenant: ${error.message}`);
      process.exitCode = USAGE_ERROR;
    } else {
      console.error('provenant:', error);
      process.exitCode = USAGE_ERROR;
    }
  }
}

// A reader that stops reading (`provenant log verify --help | head`) ends the
// command as SIGPIPE ends other Unix tools: quietly, with 128 + 13, never with
// a stack trace, and never with 0 (under `set -o pipefail` a verification cut
// short must not pass).
const SIGPIPE_EXIT = 141;
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(SIGPIPE_EXIT);
  });

await main(process.argv.slice(2));
