// The registry's snapshot chunks: the persisted shapes as a few large columnar records, written by a compaction.
import type { MetaValue } from '../log/meta-store.js';
import type { LiveShape } from './live-shape.js';

/** Shapes per chunk: ~1 MB of JSON, far below the meta store's record limit, and one event-loop turn to render. */
export const SNAPSHOT_CHUNK = 8192;
const CHUNK_VERSION = 3;

/**
 * One chunk, as columns (a record per shape would make a restart parse a million small JSON texts): handles `h`,
 * definition keys `k`, layout numbers `l`, visibilities `vis` as indexes into the chunk's texts `vt` (-1: none) and
 * the indexes `nd` of the shapes whose snapshot was not complete yet.
 */
export interface SnapshotChunk {
  readonly v: 3;
  readonly h: readonly string[];
  readonly k: readonly string[];
  readonly l: readonly number[];
  readonly vt: readonly string[];
  readonly vis: readonly number[];
  readonly nd: readonly number[];
}

/** The shapes as chunks of at most `SNAPSHOT_CHUNK`; `visibilityText` renders a visibility (the records' form). */
export function* snapshotChunks(
  shapes: Iterable<LiveShape>,
  visibilityText: (s: LiveShape) => string | null,
): Iterable<MetaValue> {
  let c = emptyChunk();
  let texts = new Map<string, number>();
  for (const s of shapes) {
    const i = c.h.length;
    c.h.push(s.handle);
    c.k.push(s.defKey);
    c.l.push(s.layout.id);
    const t = visibilityText(s);
    let vi = -1;
    if (t !== null) {
      vi = texts.get(t) ?? -1;
      if (vi < 0) texts.set(t, (vi = c.vt.push(t) - 1));
    }
    c.vis.push(vi);
    if (s.state !== 'ready') c.nd.push(i);
    if (c.h.length >= SNAPSHOT_CHUNK) {
      yield c;
      c = emptyChunk();
      texts = new Map();
    }
  }
  if (c.h.length > 0) yield c;
}

function emptyChunk(): { v: 3; h: string[]; k: string[]; l: number[]; vt: string[]; vis: number[]; nd: number[] } {
  return { v: CHUNK_VERSION, h: [], k: [], l: [], vt: [], vis: [], nd: [] };
}

/**
 * A chunk read back, checked: its frame's CRC matched, so a chunk of another shape is a format this version does not
 * know (a later one), refused rather than guessed at.
 */
export function readSnapshotChunk(m: MetaValue): SnapshotChunk {
  const c = m as Partial<Record<keyof SnapshotChunk, unknown>> | null;
  const arrays = c === null || typeof c !== 'object' ? [] : [c.h, c.k, c.l, c.vt, c.vis, c.nd];
  if (c === null || typeof c !== 'object' || c.v !== CHUNK_VERSION || !arrays.every(Array.isArray))
    throw new RangeError(`registry snapshot chunk of an unknown format (version ${String(c?.v)})`);
  const n = (c.h as unknown[]).length;
  if ((c.k as unknown[]).length !== n || (c.l as unknown[]).length !== n || (c.vis as unknown[]).length !== n)
    throw new RangeError('registry snapshot chunk with columns of different lengths');
  return c as SnapshotChunk;
}
