// Codecs of date, time, timestamp, timestamptz and interval, and the public surface of the date/time modules.
import type { Codec } from './codec.js';
import { formatDate, formatTime, formatTimestamp, formatTimestamptz } from './datetime-format.js';
import { parseDate, parseTime, parseTimestamp, parseTimestamptz } from './datetime-parse.js';
import { compareInterval, equalsInterval, formatInterval, intervalKey, parseInterval } from './interval.js';
import type { IntervalValue } from './types.js';

export { formatDate, formatTime, formatTimestamp, formatTimestamptz } from './datetime-format.js';
export { parseDate, parseTime, parseTimestamp, parseTimestamptz } from './datetime-parse.js';
export {
  parseInterval,
  formatInterval,
  compareInterval,
  equalsInterval,
  intervalKey,
  intervalSpan,
} from './interval.js';
export {
  type TimestampValue,
  dateAddDays,
  dateSubDays,
  dateDiff,
  dateToTimestamp,
  datePlusTime,
  datePlusInterval,
  dateMinusInterval,
  timestampPlusInterval,
  timestampMinusInterval,
  timestampDiff,
  timestampToDate,
  timestampToTime,
  timePlusInterval,
  timeMinusInterval,
  timeToInterval,
  intervalAdd,
  intervalSub,
  intervalNeg,
  intervalMul,
  intervalDiv,
  justifyHours,
  justifyDays,
  justifyInterval,
  timeMinusTime,
  intervalToTime,
  timestamptzPlusInterval,
  timestamptzMinusInterval,
  timestampMinusTimestamp,
  intervalPlus,
  intervalMinus,
} from './datetime-arith.js';
export {
  type Zone,
  resolveZone,
  validateZone,
  zoneOffsetAt,
  zoneLocalToUtc,
  timezoneOfTimestamp,
  timezoneOfTimestamptz,
} from './timezone.js';

/** date (day number or ±Infinity) and time (µs) are plain numbers: `-Infinity < finite < Infinity` holds as is. */
export function compareNumber(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Timestamps mix bigint (finite) and ±Infinity (number); JS relational operators compare the two kinds exactly. */
export function compareTimestamp(a: bigint | number, b: bigint | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function equalsTimestamp(a: bigint | number, b: bigint | number): boolean {
  return a === b;
}

/** Keys must not collide between the bigint 0n and a number: finite timestamps key as decimal strings. */
export function timestampKey(v: bigint | number): string {
  return typeof v === 'bigint' ? v.toString() : v > 0 ? 'infinity' : '-infinity';
}

export const dateCodec: Codec<number> = {
  parse: parseDate,
  format: formatDate,
  compare: compareNumber,
  equals: (a, b) => a === b,
  key: (v) => v,
};

export const timeCodec: Codec<number> = {
  parse: parseTime,
  format: formatTime,
  compare: compareNumber,
  equals: (a, b) => a === b,
  key: (v) => v,
};

export const timestampCodec: Codec<bigint | number> = {
  parse: parseTimestamp,
  format: formatTimestamp,
  compare: compareTimestamp,
  equals: equalsTimestamp,
  key: timestampKey,
};

export const timestamptzCodec: Codec<bigint | number> = {
  parse: parseTimestamptz,
  format: formatTimestamptz,
  compare: compareTimestamp,
  equals: equalsTimestamp,
  key: timestampKey,
};

export const intervalCodec: Codec<IntervalValue> = {
  parse: parseInterval,
  format: formatInterval,
  compare: compareInterval,
  equals: equalsInterval,
  key: intervalKey,
};
