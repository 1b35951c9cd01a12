// The secrets a configuration holds, so that a test can prove none of them ever
// reaches the log or the server's output (docs/security.md "Secrets"). Every
// configuration secret is listed here: add new ones (API token hashes, TLS keys)
// to `configuredSecrets`, and the log test checks them too.
import { readFileSync } from 'node:fs';
import type { Config } from './configTypes.js';

/** The key material of a PEM file: its base64 lines (the header lines are not secret). */
function pemBody(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length >= 16 && !line.startsWith('-----'));
}

function fileText(path: string): string[] {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return text === '' ? [] : [text];
  } catch {
    return [];
  }
}

/** Every secret value `config` holds or points to (non-empty strings). */
export function configuredSecrets(config: Config): string[] {
  const secrets: string[] = [];
  if (config.eventstore.password !== undefined) secrets.push(config.eventstore.password);
  const url = config.eventstore.connectionString;
  const inUrl = url === undefined ? undefined : /^[a-z+]+:\/\/[^:/@]*:([^@/]+)@/i.exec(url)?.[1];
  if (inUrl !== undefined) secrets.push(decodeURIComponent(inUrl));
  secrets.push(...pemBody(config.attestation.signingKeyPath));
  if (config.attestation.keyless !== undefined)
    secrets.push(...fileText(config.attestation.keyless.oidcTokenFile));
  return [...new Set(secrets.filter((s) => s.length > 0))];
}
