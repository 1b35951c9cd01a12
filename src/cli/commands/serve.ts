// `provenant serve`: the HTTP API on the configured event store.
import { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { startServer } from '../../http/server.js';
import { envHelp, exitCodesHelp, version } from '../shared.js';

export interface ServeOptions {
  host?: string;
  port?: string;
  devAnonymous?: boolean;
}

/**
 * The environment `serve` runs with: --host and --port override it; --dev-anonymous
 * is a default that an explicit PROVENANT_AUTH_ANONYMOUS (say `false`) overrides,
 * so that `PROVENANT_AUTH_ANONYMOUS=false npm start` serves with authentication.
 */
export function serveEnvironment(
  env: Partial<Record<string, string>>,
  options: ServeOptions,
): Partial<Record<string, string>> {
  const result = { ...env };
  if (options.host !== undefined) result.PROVENANT_HOST = options.host;
  if (options.port !== undefined) result.PROVENANT_PORT = options.port;
  if (options.devAnonymous === true && (result.PROVENANT_AUTH_ANONYMOUS ?? '').trim() === '')
    result.PROVENANT_AUTH_ANONYMOUS = 'true';
  return result;
}

export function serveCommand(): Command {
  return new Command('serve')
    .summary('Run the HTTP API on the configured event store (the default command)')
    .description(
      `Serves the API (GET /healthz, /readyz, /v1/events, /docs ...) until SIGTERM or
SIGINT, then shuts down gracefully: in-flight requests and appends finish and
the database is closed. With PROVENANT_PROJECTIONS=inline (the default) it also
keeps the read models current (see 'provenant projections'); their in-flight
batches commit before it stops. Options override the environment.`,
    )
    .option('--host <host>', 'address to listen on (overrides PROVENANT_HOST)')
    .option('--port <port>', 'port to listen on, 0 for a free one (overrides PROVENANT_PORT)')
    .option(
      '--dev-anonymous',
      'DEVELOPMENT ONLY (npm start): requests without credentials are the admin "anonymous"; PROVENANT_AUTH_ANONYMOUS=false still turns it off',
    )
    .addHelpText(
      'after',
      `
${exitCodesHelp([
  [0, 'stopped cleanly on SIGTERM or SIGINT'],
  [1, 'graceful shutdown failed'],
  [2, 'usage or configuration error; the address cannot be listened on (SERVER_CANNOT_LISTEN)'],
])}

${envHelp()}
`,
    )
    .action(async (options: ServeOptions) => {
      const server = await startServer(loadConfig(serveEnvironment(process.env, options)), version);
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
      process.exitCode = 0;
    });
}
