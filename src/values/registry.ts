// Codec lookup by type: scalar codecs, array codecs over them, and typmod application for literals and casts.
import { ErrorCode, ValueError } from '../errors/index.js';
import { arrayCodec } from './array.js';
import { boolCodec } from './bool.js';
import { byteaCodec } from './bytea.js';
import type { Codec } from './codec.js';
import { enumCodec } from './enum.js';
import { dateCodec, intervalCodec, timeCodec, timestampCodec, timestamptzCodec } from './datetime.js';
import { float4Codec, float8Codec } from './float.js';
import { int2Codec, int4Codec, int8Codec } from './integer.js';
import { jsonbCodec, parseJson } from './jsonb.js';
import { numericCodec } from './numeric.js';
import { applyTypmod } from './typmod.js';
import { bpcharCodec, nameCodec, textCodec } from './text.js';
import { uuidCodec } from './uuid.js';
import { elementType, typeDisplayName, type PgType, type ScalarName, type Value } from './types.js';

/** `json` is validated JSON kept as text; equality is not defined on it (Postgres has no json `=`). */
const jsonCodec: Codec<string> = {
  parse: (text) => parseJson(text),
  format: (v) => v,
  compare: undefined,
  equals(): boolean {
    throw new ValueError(ErrorCode.NotSupported, 'type json has no equality operator');
  },
  key: (v) => v,
};

const SCALARS: Record<Exclude<ScalarName, 'opaque' | 'enum'>, Codec> = {
  bool: boolCodec as Codec,
  int2: int2Codec as Codec,
  int4: int4Codec as Codec,
  int8: int8Codec as Codec,
  numeric: numericCodec as Codec,
  float4: float4Codec as Codec,
  float8: float8Codec as Codec,
  text: textCodec as Codec,
  varchar: textCodec as Codec,
  bpchar: bpcharCodec as Codec,
  name: nameCodec as Codec,
  unknown: textCodec as Codec,
  json: jsonCodec as Codec,
  uuid: uuidCodec as Codec,
  date: dateCodec as Codec,
  time: timeCodec as Codec,
  timestamp: timestampCodec as Codec,
  timestamptz: timestamptzCodec as Codec,
  interval: intervalCodec as Codec,
  bytea: byteaCodec as Codec,
  jsonb: jsonbCodec as Codec,
};

const CACHE = new Map<PgType, Codec>();

/** The codec of a type. With a typmod (char(5), numeric(10,2)…), parse also applies the modifier. */
export function codecFor(t: PgType): Codec {
  let c = CACHE.get(t);
  if (c !== undefined) return c;
  if (t.scalar === 'opaque') {
    throw new ValueError(ErrorCode.NotSupported, `type ${typeDisplayName(t)} is not supported in where clauses`);
  }
  if (t.array) {
    c = arrayCodec(codecFor(elementType(t))) as Codec;
  } else if (t.scalar === 'enum') {
    if (t.enumType === undefined) throw new ValueError(ErrorCode.UnknownType, 'enum type without labels');
    c = enumCodec(t.enumType) as Codec;
  } else {
    const base = SCALARS[t.scalar];
    c = t.typmod === -1 ? base : { ...base, parse: (text: string): Value => applyTypmod(base.parse(text), t) };
  }
  CACHE.set(t, c);
  return c;
}
