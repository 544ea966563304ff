// Seeds of randomized tests: fixed by default so every run (and CI) is reproducible; `random` explores new cases.

/** The seed named by environment variable `envName`: `fixed` when unset, a fresh one for `random`, else the number. */
export function seedFrom(envName: string, fixed: number): number {
  const text = process.env[envName];
  if (text === undefined || text === '') return fixed;
  if (text === 'random') return Math.floor(Math.random() * 2 ** 31);
  const seed = Number(text);
  if (!Number.isSafeInteger(seed)) throw new Error(`${envName} must be an integer or "random", got "${text}"`);
  return seed;
}

/** Runs `body`; if it fails, prints how to reproduce the run with this seed before rethrowing. */
export async function reportSeedOnFailure<T>(envName: string, seed: number, body: () => T | Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (e) {
    console.error(`failed with seed ${seed}; reproduce with ${envName}=${seed}`);
    throw e;
  }
}
