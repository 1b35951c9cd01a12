// `provenant tokens create`: a static API token for small installs. The token is
// printed once; configuration keeps only its SHA-256, in the line printed after it
// (an entry of the `tokens` array of PROVENANT_AUTH_FILE, docs/security.md).
import { Command, InvalidArgumentError, Option } from 'commander';
import { createStaticToken, parseAuthFile, roles, type TokenEntry } from '../../security/index.js';
import { exitCodesHelp } from '../shared.js';

interface CreateOptions {
  name: string;
  role: string[];
  source?: string[];
  type?: string[];
  action?: string[];
  unit?: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

function role(value: string, previous: string[] | undefined): string[] {
  if (!(roles as readonly string[]).includes(value))
    throw new InvalidArgumentError(`one of ${roles.join(', ')}`);
  return collect(value, previous);
}

function name(value: string): string {
  if (!NAME.test(value))
    throw new InvalidArgumentError(
      'a letter or digit, then up to 99 letters, digits, . _ @ - (it names the principal: token:<name>)',
    );
  return value;
}

export function tokensCommand(): Command {
  return new Command('tokens')
    .summary('Commands on static API tokens: create')
    .description('Static API tokens: configuration stores only their SHA-256.')
    .addCommand(
      new Command('create')
        .summary('Create a static API token and print its configuration line')
        .description(
          `Prints a new token (pvt_ + 256 random bits, base64url) on the first line of
stdout, once: it is stored nowhere. The second line is the JSON entry to add to
the "tokens" array of the PROVENANT_AUTH_FILE principals file: the token's name,
its SHA-256 (hex), its roles and, for a producer, its scope. Scope globs use *
for any run of characters; a list not given allows everything ("*"), and a
producer needs at least one. Clients send the token as
'Authorization: Bearer <token>'; the principal is named token:<name>.`,
        )
        .requiredOption('--name <name>', 'name of the principal (token:<name>)', name)
        .addOption(
          new Option('--role <role>', `a role (repeatable): ${roles.join(', ')}`)
            .argParser(role)
            .makeOptionMandatory(),
        )
        .option('--source <glob>', 'producer scope: CloudEvent source (repeatable)', collect)
        .option('--type <glob>', 'producer scope: CloudEvent type (repeatable)', collect)
        .option('--action <glob>', 'producer scope: receipt action (repeatable)', collect)
        .option('--unit <glob>', 'producer scope: unit key, e.g. openssl/* (repeatable)', collect)
        .addHelpText(
          'after',
          `
Example:
  provenant tokens create --name ci-el9 --role producer \\
    --source 'https://ci.example.com/*' --type dev.provenant.receipt.v1

${exitCodesHelp([
  [0, 'the token and its configuration line were printed'],
  [2, 'usage error (bad name or role, a producer without any scope option)'],
])}
`,
        )
        .action(function (this: Command, options: CreateOptions) {
          const scopeGiven = [options.source, options.type, options.action, options.unit].some(
            (list) => list !== undefined,
          );
          if (options.role.includes('producer') && !scopeGiven)
            this.error(
              'error: a producer needs a scope: give --source, --type, --action or --unit (use "*" to allow everything)',
            );
          const { token, sha256 } = createStaticToken();
          const entry: TokenEntry = {
            name: options.name,
            sha256,
            roles: [...new Set(options.role)] as TokenEntry['roles'],
            ...(scopeGiven
              ? {
                  scope: {
                    sources: options.source ?? ['*'],
                    types: options.type ?? ['*'],
                    actions: options.action ?? ['*'],
                    units: options.unit ?? ['*'],
                  },
                }
              : {}),
          };
          // The line must be one the server accepts.
          parseAuthFile(JSON.stringify({ tokens: [entry] }), '(tokens create)');
          console.log(token);
          console.log(JSON.stringify(entry));
          console.error(
            'The token (first line) is shown only now. Add the second line to the "tokens" array of PROVENANT_AUTH_FILE.',
          );
        }),
    );
}
