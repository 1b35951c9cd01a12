#!/usr/bin/env node
// The `provenant` command line: builds the command tree (one file per command
// group under ./commands) and runs it. Every command has --help.
//
// Exit codes: what the command returns (see its --help); 2 on a usage error
// (unknown command or option, missing argument) and on a ProvenantError such as
// CONFIG_INVALID, printed as one line without a stack trace.
import { Command, CommanderError } from 'commander';
import { isProvenantError } from '../errors.js';
import { exportCommand, verifyExportCommand } from './commands/export.js';
import { keysCommand } from './commands/keys.js';
import { logCommand } from './commands/log.js';
import { projectionsCommand } from './commands/projections.js';
import { replayCommand } from './commands/replay.js';
import { serveCommand } from './commands/serve.js';
import { tokensCommand } from './commands/tokens.js';
import { signEventCommand } from './commands/signEvent.js';
import { verifyCommand } from './commands/verify.js';
import { verifyBundleCommand } from './commands/verifyBundle.js';
import { configureTree, exitCodesHelp, USAGE_ERROR, version } from './shared.js';

export function buildProgram(): Command {
  const program = new Command('provenant')
    .description(
      `provenant ${version}: event-sourced audit and provenance store for software delivery pipelines`,
    )
    .usage('[command] [options]')
    .version(version, '-v, --version', 'print the version')
    .addCommand(serveCommand())
    .addCommand(logCommand())
    .addCommand(projectionsCommand())
    .addCommand(verifyCommand())
    .addCommand(keysCommand())
    .addCommand(tokensCommand())
    .addCommand(verifyBundleCommand())
    .addCommand(exportCommand())
    .addCommand(verifyExportCommand())
    .addCommand(replayCommand())
    .addCommand(signEventCommand())
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
])}
`,
    );
  configureTree(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv.length === 0 ? ['serve'] : argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with 0; usage errors were already printed.
      process.exitCode = error.exitCode === 0 ? 0 : USAGE_ERROR;
    } else if (isProvenantError(error)) {
      console.error(`provenant: ${error.code}: ${error.message}`);
      process.exitCode = USAGE_ERROR;
    } else {
      console.error('provenant:', error);
      process.exitCode = USAGE_ERROR;
    }
  }
}

await main(process.argv.slice(2));
