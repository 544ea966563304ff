// The per-type codec contract: text input/output, ordering, equality and canonical keys of one scalar type.
import type { Value } from './types.js';

/**
 * One codec per scalar type. Implementations live beside it (integer.ts, numeric.ts, float.ts, text.ts,
 * datetime.ts…) and are gathered by the registry in registry.ts.
 */
export interface Codec<V extends Value = Value> {
  /** Postgres's input function: accepts every form Postgres accepts (record text is a subset). Throws ValueError. */
  parse(text: string): V;
  /** Postgres's output function under Switchyard's pinned connection settings (the form pgoutput sends). */
  format(value: V): string;
  /** Btree order as Postgres sorts (NaN highest, -infinity lowest, code-point text…); undefined if unordered. */
  readonly compare: ((a: V, b: V) => number) | undefined;
  /** Postgres `=` for the type. */
  equals(a: V, b: V): boolean;
  /** Canonical hash key: equals(a, b) ⇔ key(a) === key(b). Used by equality indexes. */
  key(value: V): string | number;
}
