#!/usr/bin/env node
// Entry point of the `switchyard` command: runs the compiled CLI from dist/ (built by `npm run build`, and by prepack).
import { existsSync } from 'node:fs';
import { URL } from 'node:url';

const compiled = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(compiled)) {
  console.error('switchyard: dist/ is not built; in a source checkout run `npm run build` first');
  process.exit(1);
}
const { runCli } = await import(compiled.href);
runCli(process.argv);
