#!/usr/bin/env node
// The `provenant` command line. Every command has --help.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { openEventStore } from '../composition.js';
import { configVariables, loadConfig } from '../config.js';
import { isProvenantError } from '../errors.js';
import { startServer } from '../http/server.js';
import { packageRoot } from '../paths.js';

const version = (
  JSON.parse(readFileSync(`${packageRoot}/package.json`, 'utf8')) as { version: string }
).version;

interface Command {
  summary: string;
  usage: string;
  run(args: string[]): Promise<number>;
}

const envHelp = (): string =>
  'Environment:\n' +
  configVariables
    .map(([name, def, what]) => `  ${name.padEnd(30)} ${what} (default: ${def})`)
    .join('\n');

const commands: Record<string, Command> = {
  serve: {
    summary: 'Run the HTTP API on the configured event store (the default command)',
    usage: `provenant serve [--host HOST] [--port PORT]

Serves the API (GET /healthz, /readyz, /v1/events, /docs ...) until SIGTERM or
SIGINT, then shuts down gracefully: in-flight requests and appends finish and
the database is closed. Options override the environment.

${envHelp()}`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          host: { type: 'string' },
          port: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      });
      if (values.help) return help('serve');
      const env = { ...process.env };
      if (values.host !== undefined) env.PROVENANT_HOST = values.host;
      if (values.port !== undefined) env.PROVENANT_PORT = values.port;
      const server = await startServer(loadConfig(env), version);
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          void server.shutdown(signal).then(resolve, (error: unknown) => {
            console.error(error);
            process.exit(1);
          });
        };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
      return 0;
    },
  },
  verify: {
    summary: 'Re-walk the log and check every digest and stream chain',
    usage: `provenant verify [--stream NAME] [--json]

Recomputes each event's content digest and checks each stream's hash chain.
Exits 0 when the log is intact, 1 at the first broken link (printed with its
stream, revision and global position), 2 on a usage or configuration error.

  --stream NAME  verify one stream only
  --json         print the result as JSON

${envHelp()}`,
    async run(args) {
      const { values } = parseArgs({
        args,
        options: {
          stream: { type: 'string' },
          json: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      });
      if (values.help) return help('verify');
      const { store, description } = openEventStore(loadConfig());
      try {
        if (!values.json) console.error(`verifying ${description}`);
        let lastReport = Date.now();
        const result =
          values.stream !== undefined
            ? await store.verifyStream(values.stream)
            : await store.verifyAll({
                onProgress: (checked) => {
                  if (!values.json && Date.now() - lastReport > 1000) {
                    lastReport = Date.now();
                    console.error(`  ${checked.toLocaleString('en-US')} events checked`);
                  }
                },
              });
        if (values.json) {
          console.log(
            JSON.stringify(result, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
          );
        } else if (result.ok) {
          console.log(`ok: ${result.checked.toLocaleString('en-US')} events verified`);
        } else {
          const p = result.problem;
          console.log(
            `BROKEN after ${result.checked} good events: ${p?.kind} at ${p?.stream}@${p?.revision} (position ${p?.position}, event ${p?.eventId})\n  ${p?.message}`,
          );
        }
        return result.ok ? 0 : 1;
      } finally {
        await store.close();
      }
    },
  },
};

function help(command?: string): number {
  if (command !== undefined && commands[command] !== undefined) {
    console.log(`${commands[command].usage}\n`);
    return 0;
  }
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  console.log(`provenant ${version}: event-sourced audit and provenance store for software delivery pipelines

Usage: provenant <command> [options]

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
  .join('\n')}

Run 'provenant <command> --help' for a command's options and environment.
Options: --help, --version`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) return commands.serve!.run([]);
  if (first === '--help' || first === '-h' || first === 'help') return help(rest[0]);
  if (first === '--version' || first === '-v') {
    console.log(version);
    return 0;
  }
  const command = commands[first];
  if (command === undefined) {
    console.error(`provenant: unknown command '${first}'. Run 'provenant --help'.`);
    return 2;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (isProvenantError(error)) console.error(`provenant: ${error.code}: ${error.message}`);
    else if (
      error instanceof TypeError &&
      (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')
    )
      console.error(`provenant: ${error.message}. Run 'provenant --help'.`);
    else console.error('provenant:', error);
    process.exitCode = 2;
  },
);
