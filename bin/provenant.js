#!/usr/bin/env node
// Entry point of the `provenant` command: runs the compiled CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error("provenant: not built yet; run 'npm run build' in the package first");
  process.exit(2);
}
await import(main.href);
