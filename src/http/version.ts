// The package version, read from package.json so `--version`, the `electric-server` header, the health endpoint and the
// banner never drift from it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * This file sits two levels below the package root both as source (src/cli/) and compiled (dist/cli/), so the same
 * relative path finds package.json in a checkout, under tsx and in an installed package.
 */
export function packageVersion(): string {
  const file = fileURLToPath(new URL('../../package.json', import.meta.url));
  const pkg = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string') throw new Error(`${file} has no "version"`);
  return pkg.version;
}
