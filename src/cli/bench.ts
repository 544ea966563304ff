// `switchyard bench`: runs the repository's benchmarks (bench/, TypeScript via tsx) in a child with a large heap.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The benchmarks live in the repository (bench/), not in the published package; they run from a checkout. */
export function runBench(args: readonly string[], heapMb = 8192): Promise<number> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const entry = path.join(root, 'bench', 'cli.ts');
  if (!existsSync(entry)) {
    console.error(`switchyard bench runs from a source checkout: ${entry} not found`);
    return Promise.resolve(1);
  }
  // The benchmarks are TypeScript run through tsx, a dev dependency like everything else bench/ uses.
  if (!existsSync(path.join(root, 'node_modules', 'tsx'))) {
    console.error('switchyard bench needs the dev dependencies (tsx, cli-progress): run `npm install` in the checkout');
    return Promise.resolve(1);
  }
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', `--max-old-space-size=${heapMb}`, '--import', 'tsx', entry, ...args],
      {
        cwd: root,
        stdio: 'inherit',
      },
    );
    child.on('exit', (code) => resolve(code ?? 1));
  });
}
