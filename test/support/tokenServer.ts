// A server that requires credentials, as `provenant serve` runs by default:
// in this process, on a loopback port, with a principals file
// (PROVENANT_AUTH_FILE) holding `tokens`; no projections, no attestor.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/http/server.js';

/** One entry of the principals file's `tokens` (what `provenant tokens create` prints). */
export interface TokenEntry {
  name: string;
  sha256: string;
  roles: string[];
  scope?: unknown;
}

/** Starts it with its data and principals file under `dir`. */
export function startTokenServer(
  dir: string,
  tokens: readonly TokenEntry[],
): ReturnType<typeof startServer> {
  const authFile = join(dir, 'principals.json');
  writeFileSync(authFile, JSON.stringify({ tokens }));
  return startServer(
    loadConfig({
      PROVENANT_DATA_DIR: join(dir, 'data'),
      PROVENANT_PORT: '0',
      PROVENANT_LOG_LEVEL: 'silent',
      PROVENANT_AUTH_FILE: authFile,
      PROVENANT_PROJECTIONS: 'off',
      PROVENANT_ATTEST_ON_STAGE_PASSED: 'false',
    }),
  );
}
