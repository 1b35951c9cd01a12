// What every `provenant` command shares: the version, the help sections on the
// environment and exit codes, how usage errors are reported, and reading a
// file a command was given.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { configVariables } from '../config.js';
import { packageRoot } from '../paths.js';

export const version = (
  JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { version: string }
).version;

/** Help section listing the configuration variables (src/config.ts). */
export const envHelp = (): string =>
  'Environment:\n' +
  configVariables
    .map(([name, def, what]) => `  ${name.padEnd(30)} ${what} (default: ${def})`)
    .join('\n');

/** Help section listing exit codes, one `[code, meaning]` pair a line. */
export const exitCodesHelp = (codes: readonly (readonly [number, string])[]): string =>
  'Exit codes:\n' + codes.map(([code, meaning]) => `  ${code}  ${meaning}`).join('\n');

/** Exit code of a usage or configuration error, for every command. */
export const USAGE_ERROR = 2;

/** `n` and the word, singular for one: `count(1, 'event')` is '1 event', `count(1200, 'event')` '1,200 events'. */
export const count = (n: number | bigint, word: string, plural = `${word}s`): string =>
  `${n.toLocaleString('en-US')} ${n === 1 || n === 1n ? word : plural}`;

/** `provenant log verify`, from a command and its parents. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * One line for a usage error from commander: `provenant: <what>. Run '<command>
 * --help'.` The wording of unknown options and commands is the one the parseArgs
 * CLI printed ("Unknown option '--x'", "unknown command 'x'"), which scripts and
 * tests match.
 */
export function usageErrorLine(command: Command, commanderMessage: string): string {
  const what = commanderMessage
    .trim()
    .replace(/^error: /, '')
    .replace(/^unknown option/, 'Unknown option')
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\.$/, '');
  return `provenant: ${what}. Run '${commandPath(command)} --help'.\n`;
}

/**
 * Applies the CLI-wide behaviour to a command and all its subcommands: errors
 * throw (main.ts maps them to exit codes) instead of exiting the process, and
 * usage errors print one line with a pointer to --help.
 */
export function configureTree(command: Command): void {
  command.exitOverride();
  command.configureOutput({
    outputError: (str, write) => write(usageErrorLine(command, str)),
  });
  for (const sub of command.commands) configureTree(sub);
}

/** The file at `path` (the command's `what`: key, bundle…); a usage error when it cannot be read. */
export function readOrFail(command: Command, path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    command.error(`error: cannot read the ${what} ${path} (${reason})`);
  }
}
