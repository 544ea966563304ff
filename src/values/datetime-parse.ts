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

// Scratch fields filled by scan(): one parse per row must not allocate a result object.
let special = 0; // 0 none, 1 infinity, -1 -infinity, 2 epoch, 3 allballs
let hasDate = false;
let hasTime = false;
let year = 0;
let month = 0;
let mday = 0;
let bc = false;
let hour = 0;
let minute = 0;
let second = 0;
let usec = 0;
let hasTz = false;
let tzSeconds = 0; // seconds east of UTC
let tzZone: Zone | null = null;

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
 * Tokenises `[date][(T| )time][ offset|zone][ BC|AD]` into the scratch fields. Returns false on a syntax error
 * (the caller decides between not-supported and invalid input); throws for out-of-range fields.
 */
function scan(text: string): boolean {
  special = 0;
  hasDate = hasTime = hasTz = bc = false;
  year = month = mday = hour = minute = second = usec = tzSeconds = 0;
  tzZone = null;
  const s = text;
  let i = 0;
  let end = s.length;
  while (i < end && isSpace(s.charCodeAt(i))) i++;
  while (end > i && isSpace(s.charCodeAt(end - 1))) end--;
  if (i === end) return false;
  let c = s.charCodeAt(i);
  if (isAlpha(c) || (c === 45 && i + 1 < end && isAlpha(s.charCodeAt(i + 1)))) {
    const word = s.slice(i, end).toLowerCase();
    if (word === 'infinity') special = 1;
    else if (word === '-infinity') special = -1;
    else if (word === 'epoch') special = 2;
    else if (word === 'allballs') special = 3;
    else return false;
    return true;
  }
  // Date: YYYY-MM-DD (year of 3+ digits; shorter leading fields are DMY forms, not ISO) or YYYYMMDD.
  let j = i;
  while (j < end && isDigit(s.charCodeAt(j))) j++;
  if (j === i) return false;
  if (j < end && s.charCodeAt(j) === 45) {
    if (j - i < 3) return false;
    if (j - i > 9) throw fieldRange(text);
    year = digitsValue(s, i, j);
    let k = j + 1;
    const m0 = k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    if (k === m0 || k - m0 > 2 || k >= end || s.charCodeAt(k) !== 45) return false;
    month = digitsValue(s, m0, k);
    const d0 = ++k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    if (k === d0 || k - d0 > 2) return false;
    mday = digitsValue(s, d0, k);
    hasDate = true;
    i = k;
  } else if (j - i === 8 && (j === end || isSpace(s.charCodeAt(j)) || (s.charCodeAt(j) | 32) === 116)) {
    year = digitsValue(s, i, i + 4);
    month = digitsValue(s, i + 4, i + 6);
    mday = digitsValue(s, i + 6, j);
    hasDate = true;
    i = j;
  } else if (j < end && s.charCodeAt(j) === 58) {
    // time only (for the time type); handled below
  } else {
    return false;
  }
  // Between date and time: `T`, or spaces and an optional era word.
  if (hasDate && i < end) {
    c = s.charCodeAt(i);
    if ((c | 32) === 116 && i + 1 < end && isDigit(s.charCodeAt(i + 1))) {
      i++;
    } else {
      if (!isSpace(c)) return false;
      while (i < end && isSpace(s.charCodeAt(i))) i++;
      const e = eraAt(s, i, end);
      if (e !== 0) {
        i = e;
        while (i < end && isSpace(s.charCodeAt(i))) i++;
      }
    }
  }
  // Time: H[H]:M[M][:S[S][.fraction]]
  if (i < end && isDigit(s.charCodeAt(i))) {
    let k = i;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    if (k - i > 2 || k >= end || s.charCodeAt(k) !== 58) return false;
    hour = digitsValue(s, i, k);
    const mi = ++k;
    while (k < end && isDigit(s.charCodeAt(k))) k++;
    if (k === mi || k - mi > 2) return false;
    minute = digitsValue(s, mi, k);
    if (k < end && s.charCodeAt(k) === 46) {
      // `mm:ss.fff` is read as MINUTE TO SECOND, as Postgres's DecodeTime does
      second = minute;
      minute = hour;
      hour = 0;
      const fi = ++k;
      while (k < end && isDigit(s.charCodeAt(k))) k++;
      usec = fractionMicros(s, fi, k);
    } else if (k < end && s.charCodeAt(k) === 58) {
      const si = ++k;
      while (k < end && isDigit(s.charCodeAt(k))) k++;
      if (k === si || k - si > 2) return false;
      second = digitsValue(s, si, k);
      if (k < end && s.charCodeAt(k) === 46) {
        const fi = ++k;
        while (k < end && isDigit(s.charCodeAt(k))) k++;
        usec = fractionMicros(s, fi, k);
      }
    }
    hasTime = true;
    i = k;
    if (hour > 24 || minute > 59 || second > 60) throw fieldRange(text);
    if (hour === 24 && (minute > 0 || second > 0 || usec > 0)) throw fieldRange(text);
  }
  // Offset or zone, then an optional era.
  while (i < end) {
    const start = i;
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    c = s.charCodeAt(i);
    if ((c === 43 || c === 45) && (hasTime || hasDate) && !hasTz) {
      i = scanOffset(s, i, end, text);
      if (i < 0) return false;
      hasTz = true;
      continue;
    }
    if (i === start && hasTime && (c | 32) !== 122) return false;
    const e = eraAt(s, i, end);
    if (e !== 0) {
      i = e;
      continue;
    }
    if (!isAlpha(c) || !hasTime || hasTz) return false;
    let k = i;
    while (k < end && !isSpace(s.charCodeAt(k))) k++;
    const word = s.slice(i, k);
    hasTz = true;
    if (!UTC_WORDS.has(word.toLowerCase())) {
      // Postgres reads a bare word as an abbreviation (else a syntax error) and only `Area/City` as a zone name.
      const isName = word.includes('/');
      if (!isName && !isAbbreviation(word)) return false;
      const zone = resolveZone(word);
      if (zone === null) {
        throw new ValueError(ErrorCode.InvalidValue, `time zone "${word.toLowerCase()}" not recognized`);
      }
      tzZone = zone;
    }
    i = k;
  }
  return true;
}

/** If an era word (`BC`/`AD`) starts at i, records it and returns its end; otherwise 0. */
function eraAt(s: string, i: number, end: number): number {
  if (i + 2 > end || (i + 2 < end && !isSpace(s.charCodeAt(i + 2)))) return 0;
  const a = s.charCodeAt(i) | 32;
  const b = s.charCodeAt(i + 1) | 32;
  if (a === 98 && b === 99)
    bc = true; // bc
  else if (a !== 97 || b !== 100) return 0; // ad
  return i + 2;
}

/** `±h`, `±hh`, `±hhmm`, `±hh:mm`, `±hh:mm:ss` as Postgres's DecodeTimezone reads them; -1 on bad syntax. */
function scanOffset(s: string, i: number, end: number, text: string): number {
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
  tzSeconds = sign * (hr * 3600 + mn * 60 + sc);
  return k;
}

/** Astronomical year of the scanned date, after the field checks Postgres's ValidateDate makes. */
function checkedYear(text: string): number {
  if (year === 0 || month < 1 || month > 12) throw fieldRange(text);
  const y = bc ? 1 - year : year;
  if (mday < 1 || mday > daysInMonth(y, month)) throw fieldRange(text);
  return y;
}

/** Postgres's IS_VALID_JULIAN: on or after 4714-11-24 BC and before 5874898-06-03. */
function validJulian(y: number, m: number, d: number): boolean {
  return (y > -4713 || (y === -4713 && (m > 11 || (m === 11 && d >= 24)))) && (y < 5874898 || (y === 5874898 && m < 6));
}

const rangeError = (what: string, text: string): ValueError =>
  new ValueError(ErrorCode.InvalidValue, `${what} out of range: "${text}"`);

function scanOrFail(text: string, typeName: string): void {
  if (!scan(text)) throw failure(text, typeName);
}

export function parseDate(text: string): number {
  scanOrFail(text, 'date');
  if (special !== 0) {
    if (special === 1) return Infinity;
    if (special === -1) return -Infinity;
    if (special === 2) return 0;
    throw invalidInput('date', text);
  }
  if (!hasDate) throw invalidInput('date', text);
  const y = checkedYear(text);
  if (!validJulian(y, month, mday)) throw rangeError('date', text);
  const day = ymdToDay(y, month, mday);
  if (day < DATE_MIN || day >= DATE_END) throw rangeError('date', text);
  return day;
}

export function parseTime(text: string): number {
  // time_in's DecodeTimeOnly takes an ISO `T` only before the time alone (`T10:00`), never after a date.
  const iso = /^\s*[Tt](?=\d)/.exec(text);
  if (iso) return parseTime(text.slice(iso[0].length));
  if (/\d[Tt]\d/.test(text)) throw invalidInput('time', text);
  scanOrFail(text, 'time');
  if (special === 3) return 0;
  if (special !== 0 || !hasTime || (tzZone !== null && tzZone.kind !== 'fixed')) throw invalidInput('time', text);
  if (hasDate) checkedYear(text);
  const t = ((hour * 60 + minute) * 60 + second) * 1_000_000 + usec;
  if (t > USECS_PER_DAY) throw fieldRange(text);
  return t;
}

function parseTs(text: string, typeName: string, withZone: boolean): bigint | number {
  scanOrFail(text, typeName);
  if (special !== 0) {
    if (special === 1) return Infinity;
    if (special === -1) return -Infinity;
    if (special === 2) return 0n;
    throw invalidInput(typeName, text);
  }
  if (!hasDate) throw invalidInput(typeName, text);
  const y = checkedYear(text);
  if (!validJulian(y, month, mday)) throw rangeError('timestamp', text);
  const time = ((hour * 60 + minute) * 60 + second) * 1_000_000 + usec;
  let ts = joinTimestamp(ymdToDay(y, month, mday), time);
  if (withZone && hasTz) {
    ts = tzZone !== null ? zoneLocalToUtc(tzZone, ts) : ts - BigInt(tzSeconds) * 1_000_000n;
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
  return joinTimestamp(ymdToDay(y, mo, d), ((h * 60 + mi) * 60 + se) * 1_000_000 + us);
}
