// The meta store's earlier on-disk format (`bucket-N.json`, one JSON object per hash bucket), read once to migrate.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MetaValue } from './meta-store.js';

const BUCKET_FORMAT = 1;

export function isBucketFile(name: string): boolean {
  return /^bucket-[0-9]+\.json$/.test(name);
}

/**
 * Every key and value of the bucket files. Each file was replaced atomically, so each is complete; a file of another
 * format is refused rather than guessed at.
 */
export function readBucketFiles(dir: string, names: readonly string[]): [string, MetaValue][] {
  const out: [string, MetaValue][] = [];
  for (const name of names) {
    const parsed = JSON.parse(readFileSync(join(dir, name), 'utf8')) as {
      format: number;
      data: Record<string, MetaValue>;
    };
    if (parsed.format !== BUCKET_FORMAT) {
      throw new RangeError(`meta store ${dir}: ${name} has format ${parsed.format}, expected ${BUCKET_FORMAT}`);
    }
    out.push(...Object.entries(parsed.data));
  }
  return out;
}
