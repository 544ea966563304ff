// Text input of date, time, timestamp and timestamptz: Postgres's output forms and ISO 8601, under DateStyle ISO/DMY.
import { ErrorCode, ValueError, invalidInput } from '../errors/index.js';
import {
  DATE_END,
  DATE_MIN,
  TS_END,
  TS_MIN,
  USECS_PER_DAY,
  daysInMonth,
  joinTimestamp,
  ymdToDay,
} from './datetime-format.js';
import { isAbbreviation, resolveZone, zoneLocalToUtc, type Zone } from './timezone.js';

/** What scan() read from one input: a fresh object per parse, so parses never share state. */
interface Fields {
  /** 0 none, 1 infinity, -1 -infinity, 2 epoch, 3 allballs. */
  special: number;
  hasDate: boolean;
  hasTime: boolean;
  year: number;
  month: number;
  mday: number;
  bc: boolean;
  hour: number;
  minute: number;
  second: number;
  usec: number;
  hasTz: boolean;
  /** Seconds east of UTC of a numeric offset. */
  tzSeconds: number;
  tzZone: Zone | null;
}

const SYNTAX = -1;

const CLOCK_WORDS = new Set(['now', 'today', 'tomorrow', 'yesterday', 'current']);
const UTC_WORDS = new Set(['z', 'utc', 'gmt', 'zulu', 'ut', 'uct']);
const NON_ISO =
  /[/]|\d\.\d|^\s*\d{1,2}-|\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|mon|tue|wed|thu|fri|sat|sun)|^\s*j\d/i;

/** Postgres's rint: round half to even, as C's rint() under the default rounding mode. */
export function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);
const isAlpha = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

const fieldRange = (text: string): ValueError =>
  new ValueError(ErrorCode.InvalidValue, `date/time field value out of range: "${text}"`);

/** Rejects clock words and non-ISO forms with NotSupported; everything else that failed is invalid syntax. */
function failure(text: string, typeName: string): ValueError {
  const word = /^\s*([a-z]+)/i.exec(text)?.[1]?.toLowerCase();
  if (word !== undefined && CLOCK_WORDS.has(word)) {
    return new ValueError(
      ErrorCode.NotSupported,
      `"${word}" is not supported in where clauses (it depends on the clock)`,
    );
  }
  if (NON_ISO.test(text)) {
    return new ValueError(
      ErrorCode.NotSupported,
      `date/time input "${text}" is not supported in where clauses (use ISO 8601, e.g. 2024-01-31 10:00:00)`,
    );
  }
  return invalidInput(typeName, text);
}

/** Reads an unsigned decimal run [i, j) as a number (callers bound the length). */
function digitsValue(s: string, i: number, j: number): number {
  let v = 0;
  for (let k = i; k < j; k++) v = v * 10 + (s.charCodeAt(k) - 48);
  return v;
}

/** Fraction digits [i, j) to µs, rounding as Postgres does (strtod then rint(frac × 10^6)). */
const SCALE = [1_000_000, 100_000, 10_000, 1000, 100, 10, 1];

function fractionMicros(s: string, i: number, j: number): number {
  const n = j - i;
  if (n <= 6) return digitsValue(s, i, j) * SCALE[n]!;
  return rint(Number(`0.${s.slice(i, j)}`) * 1_000_000);
}

/**
 * Tokenises `[date][(T| )time][ offset|zone][ BC|AD]`. Returns undefined on a syntax error (the caller decides
 * between not-supported and invalid input); throws for out-of-range fields.
 */
function scan(text: string): Fields | undefined {
  const f: Fields = {
    special: 0,
    hasDate: false,
    hasTime: false,
    year: 0,
    month: 0,
    mday: 0,
    bc: false,
    hour: 0,
    minute: 0,
    second: 0,
    usec: 0,
    hasTz: false,
    tzSeconds: 0,
    tzZone: null,
  };
  const s = text;
  let i = 0;
  let end = s.length;
  while (i < end && isSpace(s.charCodeAt(i))) i++;
  while (end > i && isSpace(s.charCodeAt(end - 1))) end--;
  if (i === end) return undefined;
  const c = s.charCodeAt(i);
  if (isAlpha(c) || (c === 45 && i + 1 < end && isAlpha(s.charCodeAt(i + 1)))) {
    f.special = specialWord(s.slice(i, end).toLowerCase());
    return f.special === 0 ? undefined : f;
  }
  i = scanDate(f, s, i, end, text);
  if (i !== SYNTAX && f.hasDate && i < end) i = scanDateTimeGap(f, s, i, end);
  if (i !== SYNTAX && i < end && isDigit(s.charCodeAt(i))) i = scanTime(f, s, i, end, text);
  if (i === SYNTAX || !scanSuffixes(f, s, i, end, text)) return undefined;
  return f;
}

function specialWord(word: string): number {
  if (word === 'infinity') return 1;
  if (word === '-infinity') return -1;
  if (word === 'epoch') return 2;
  if (word === 'allballs') return 3;
  return 0;
}

/** YYYY-MM-DD (year of 3+ digits; shorter leading fields are DMY forms, not ISO) or YYYYMMDD; or a time's start. */
function scanDate(f: Fields, s: string, i: number, end: number, text: string): number {
  let j = i;
  while (j < end && isDigit(s.charCodeAt(j))) j++;
  if (j === i) return SYNTAX;
  if (j < end && s.charCodeAt(j) === 45) {
    if (j - i < 3) return SYNTAX;
    if (j - i > 9) throw fieldRange(text);
    f.year = digitsValue(s, i, j);
    let k = j + 1;
    const m0 = k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    if (k === m0 || k - m0 > 2 || k >= end || s.charCodeAt(k) !== 45) return SYNTAX;
    f.month = digitsValue(s, m0, k);
    const d0 = ++k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    if (k === d0 || k - d0 > 2) return SYNTAX;
    f.mday = digitsValue(s, d0, k);
    f.hasDate = true;
    return k;
  }
  if (j - i === 8 && (j === end || isSpace(s.charCodeAt(j)) || (s.charCodeAt(j) | 32) === 116)) {
    f.year = digitsValue(s, i, i + 4);
    f.month = digitsValue(s, i + 4, i + 6);
    f.mday = digitsValue(s, i + 6, j);
    f.hasDate = true;
    return j;
  }
  // A time alone (for the time type) is read by scanTime.
  return j < end && s.charCodeAt(j) === 58 ? i : SYNTAX;
}

/** Between date and time: `T`, or spaces and an optional era word. */
function scanDateTimeGap(f: Fields, s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  if ((c | 32) === 116 && i + 1 < end && isDigit(s.charCodeAt(i + 1))) return i + 1;
  if (!isSpace(c)) return SYNTAX;
  while (i < end && isSpace(s.charCodeAt(i))) i++;
  const e = eraAt(f, s, i, end);
  if (e === 0) return i;
  i = e;
  while (i < end && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** H[H]:M[M][:S[S][.fraction]], or `mm:ss.fff` read as MINUTE TO SECOND as Postgres's DecodeTime does. */
function scanTime(f: Fields, s: string, i: number, end: number, text: string): number {
  let k = i;
  while (k < end && isDigit(s.charCodeAt(k))) k++;
  if (k - i > 2 || k >= end || s.charCodeAt(k) !== 58) return SYNTAX;
  f.hour = digitsValue(s, i, k);
  const mi = ++k;
  while (k < end && isDigit(s.charCodeAt(k))) k++;
  if (k === mi || k - mi > 2) return SYNTAX;
  f.minute = digitsValue(s, mi, k);
  if (k < end && s.charCodeAt(k) === 46) {
    f.second = f.minute;
    f.minute = f.hour;
    f.hour = 0;
    const fi = ++k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    f.usec = fractionMicros(s, fi, k);
  } else if (k < end && s.charCodeAt(k) === 58) {
    const si = ++k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    if (k === si || k - si > 2) return SYNTAX;
    f.second = digitsValue(s, si, k);
    if (k < end && s.charCodeAt(k) === 46) {
      const fi = ++k;
      while (k < end && isDigit(s.charCodeAt(k))) k++;
      f.usec = fractionMicros(s, fi, k);
    }
  }
  f.hasTime = true;
  if (f.hour > 24 || f.minute > 59 || f.second > 60) throw fieldRange(text);
  if (f.hour === 24 && (f.minute > 0 || f.second > 0 || f.usec > 0)) throw fieldRange(text);
  return k;
}

/** An offset or zone, and an optional era, up to the end; false on bad syntax. */
function scanSuffixes(f: Fields, s: string, i: number, end: number, text: string): boolean {
  while (i < end) {
    const start = i;
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    const c = s.charCodeAt(i);
    if ((c === 43 || c === 45) && (f.hasTime || f.hasDate) && !f.hasTz) {
      i = scanOffset(f, s, i, end, text);
      if (i < 0) return false;
      f.hasTz = true;
      continue;
    }
    if (i === start && f.hasTime && (c | 32) !== 122) return false;
    const e = eraAt(f, s, i, end);
    if (e !== 0) {
      i = e;
      continue;
    }
    if (!isAlpha(c) || !f.hasTime || f.hasTz) return false;
    let k = i;
    while (k < end && !isSpace(s.charCodeAt(k))) k++;
    if (!zoneWord(f, s.slice(i, k))) return false;
    i = k;
  }
  return true;
}

/** A zone written as a word: UTC's names, an abbreviation, or `Area/City`; false when Postgres reads no zone. */
function zoneWord(f: Fields, word: string): boolean {
  f.hasTz = true;
  if (UTC_WORDS.has(word.toLowerCase())) return true;
  // Postgres reads a bare word as an abbreviation (else a syntax error) and only `Area/City` as a zone name.
  if (!word.includes('/') && !isAbbreviation(word)) return false;
  const zone = resolveZone(word);
  if (zone === null) throw new ValueError(ErrorCode.InvalidValue, `time zone "${word.toLowerCase()}" not recognized`);
  f.tzZone = zone;
  return true;
}

/** If an era word (`BC`/`AD`) starts at i, records it and returns its end; otherwise 0. */
function eraAt(f: Fields, s: string, i: number, end: number): number {
  if (i + 2 > end || (i + 2 < end && !isSpace(s.charCodeAt(i + 2)))) return 0;
  const a = s.charCodeAt(i) | 32;
  const b = s.charCodeAt(i + 1) | 32;
  if (a === 98 && b === 99)
    f.bc = true; // bc
  else if (a !== 97 || b !== 100) return 0; // ad
  return i + 2;
}

/** `±h`, `±hh`, `±hhmm`, `±hh:mm`, `±hh:mm:ss` as Postgres's DecodeTimezone reads them; -1 on bad syntax. */
function scanOffset(f: Fields, s: string, i: number, end: number, text: string): number {
  const sign = s.charCodeAt(i) === 45 ? -1 : 1;
  let k = i + 1;
  const h0 = k;
  while (k < end && isDigit(s.charCodeAt(k))) k++;
  if (k === h0 || k - h0 > 9) return -1;
  let hr = digitsValue(s, h0, k);
  let mn = 0;
  let sc = 0;
  if (k < end && s.charCodeAt(k) === 58) {
    const m0 = ++k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    if (k === m0 || k - m0 > 2) return -1;
    mn = digitsValue(s, m0, k);
    if (k < end && s.charCodeAt(k) === 58) {
      const s0 = ++k;
      while (k < end && isDigit(s.charCodeAt(k))) k++;
      if (k === s0 || k - s0 > 2) return -1;
      sc = digitsValue(s, s0, k);
    }
  } else if (k - h0 > 2) {
    mn = hr % 100;
    hr = Math.floor(hr / 100);
  }
  if (hr > 15 || mn > 59 || sc > 59) {
    throw new ValueError(ErrorCode.InvalidValue, `time zone displacement out of range: "${text}"`);
  }
  f.tzSeconds = sign * (hr * 3600 + mn * 60 + sc);
  return k;
}

/** Astronomical year of the scanned date, after the field checks Postgres's ValidateDate makes. */
function checkedYear(f: Fields, text: string): number {
  if (f.year === 0 || f.month < 1 || f.month > 12) throw fieldRange(text);
  const y = f.bc ? 1 - f.year : f.year;
  if (f.mday < 1 || f.mday > daysInMonth(y, f.month)) throw fieldRange(text);
  return y;
}

/** Postgres's IS_VALID_JULIAN: on or after 4714-11-24 BC and before 5874898-06-03. */
function validJulian(y: number, m: number, d: number): boolean {
  return (y > -4713 || (y === -4713 && (m > 11 || (m === 11 && d >= 24)))) && (y < 5874898 || (y === 5874898 && m < 6));
}

const rangeError = (what: string, text: string): ValueError =>
  new ValueError(ErrorCode.InvalidValue, `${what} out of range: "${text}"`);

function scanOrFail(text: string, typeName: string): Fields {
  const f = scan(text);
  if (f === undefined) throw failure(text, typeName);
  return f;
}

export function parseDate(text: string): number {
  const f = scanOrFail(text, 'date');
  if (f.special !== 0) {
    if (f.special === 1) return Infinity;
    if (f.special === -1) return -Infinity;
    if (f.special === 2) return 0;
    throw invalidInput('date', text);
  }
  if (!f.hasDate) throw invalidInput('date', text);
  const y = checkedYear(f, text);
  if (!validJulian(y, f.month, f.mday)) throw rangeError('date', text);
  const day = ymdToDay(y, f.month, f.mday);
  if (day < DATE_MIN || day >= DATE_END) throw rangeError('date', text);
  return day;
}

export function parseTime(text: string): number {
  // time_in's DecodeTimeOnly takes an ISO `T` only before the time alone (`T10:00`), never after a date.
  const iso = /^\s*[Tt](?=\d)/.exec(text);
  if (iso) return parseTime(text.slice(iso[0].length));
  if (/\d[Tt]\d/.test(text)) throw invalidInput('time', text);
  const f = scanOrFail(text, 'time');
  if (f.special === 3) return 0;
  if (f.special !== 0 || !f.hasTime || (f.tzZone !== null && f.tzZone.kind !== 'fixed'))
    throw invalidInput('time', text);
  if (f.hasDate) checkedYear(f, text);
  const t = ((f.hour * 60 + f.minute) * 60 + f.second) * 1_000_000 + f.usec;
  if (t > USECS_PER_DAY) throw fieldRange(text);
  return t;
}

function parseTs(text: string, typeName: string, withZone: boolean): bigint | number {
  const f = scanOrFail(text, typeName);
  if (f.special !== 0) {
    if (f.special === 1) return Infinity;
    if (f.special === -1) return -Infinity;
    if (f.special === 2) return 0n;
    throw invalidInput(typeName, text);
  }
  if (!f.hasDate) throw invalidInput(typeName, text);
  const y = checkedYear(f, text);
  if (!validJulian(y, f.month, f.mday)) throw rangeError('timestamp', text);
  const time = ((f.hour * 60 + f.minute) * 60 + f.second) * 1_000_000 + f.usec;
  let ts = joinTimestamp(ymdToDay(y, f.month, f.mday), time);
  if (withZone && f.hasTz) {
    ts = f.tzZone !== null ? zoneLocalToUtc(f.tzZone, ts) : ts - BigInt(f.tzSeconds) * 1_000_000n;
  }
  if (ts < TS_MIN || ts >= TS_END) throw rangeError('timestamp', text);
  return ts;
}

export function parseTimestamp(text: string): bigint | number {
  return parseTs(text, 'timestamp', false);
}

/** A timestamptz without an offset is read in the pinned TimeZone, UTC. */
export function parseTimestamptz(text: string): bigint | number {
  const n = text.length;
  if (n >= 22 && text.charCodeAt(n - 3) === 43 && text.charCodeAt(n - 2) === 48 && text.charCodeAt(n - 1) === 48) {
    const fast = canonicalTimestamp(text, n - 3);
    if (fast !== undefined) return fast;
  }
  return parseTs(text, 'timestamp with time zone', true);
}

const d2 = (s: string, i: number): number => {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/**
 * Fast path for the text pgoutput sends (`YYYY-MM-DD HH:MM:SS[.ffffff]` ending at `end`, AD years 1000–9999):
 * plain arithmetic instead of the general scanner. Anything else returns undefined and takes the full path.
 */
function canonicalTimestamp(s: string, end: number): bigint | undefined {
  const us = canonicalTimestampMicros(s, end);
  if (us === undefined) return undefined;
  return us === us ? BigInt(us) : canonicalTimestampBig(s, end);
}

/**
 * The µs of a canonical timestamp text as an exact double (days within ±104,000 of 2000-01-01, so below 2^53): what
 * residual comparisons use as the value's comparable key without allocating. undefined when the text is not
 * canonical, NaN when canonical but outside that span.
 */
export function canonicalTimestampMicros(s: string, end: number): number | undefined {
  const f = canonicalFields(s, end);
  if (f === undefined) return undefined;
  const day = ymdToDay(f.y, f.mo, f.d);
  return day > -104_000 && day < 104_000 ? day * USECS_PER_DAY + f.time : NaN;
}

function canonicalTimestampBig(s: string, end: number): bigint | undefined {
  const f = canonicalFields(s, end);
  return f === undefined ? undefined : joinTimestamp(ymdToDay(f.y, f.mo, f.d), f.time);
}

/** Scratch of canonicalFields (reused: the fast path runs per row and must not allocate). */
const FIELDS = { y: 0, mo: 0, d: 0, time: 0 };

function canonicalFields(s: string, end: number): typeof FIELDS | undefined {
  if (end !== 19 && (end < 21 || end > 26)) return undefined;
  const y1 = d2(s, 0);
  const y2 = d2(s, 2);
  const mo = d2(s, 5);
  const d = d2(s, 8);
  const h = d2(s, 11);
  const mi = d2(s, 14);
  const se = d2(s, 17);
  if (y1 < 10 || y2 < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59)
    return undefined;
  if (
    s.charCodeAt(4) !== 45 ||
    s.charCodeAt(7) !== 45 ||
    s.charCodeAt(10) !== 32 ||
    s.charCodeAt(13) !== 58 ||
    s.charCodeAt(16) !== 58
  )
    return undefined;
  const y = y1 * 100 + y2;
  if (d > daysInMonth(y, mo)) return undefined;
  let us = 0;
  if (end > 19) {
    if (s.charCodeAt(19) !== 46) return undefined;
    let scale = 100_000;
    for (let i = 20; i < end; i++, scale /= 10) {
      const c = s.charCodeAt(i) - 48;
      if (c < 0 || c > 9) return undefined;
      us += c * scale;
    }
  }
  FIELDS.y = y;
  FIELDS.mo = mo;
  FIELDS.d = d;
  FIELDS.time = ((h * 60 + mi) * 60 + se) * 1_000_000 + us;
  return FIELDS;
}
