// The interval type: Postgres 15's input (verbose, SQL and ISO 8601 forms), iso_8601 output, and span ordering.
import { ErrorCode, ValueError, invalidInput } from '../errors/index.js';
import { rint } from './datetime-parse.js';
import type { IntervalValue } from './types.js';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const US_HOUR = 3_600_000_000n;
const US_MINUTE = 60_000_000n;
const US_SECOND = 1_000_000n;
export const US_DAY = 86_400_000_000n;

export const intervalOutOfRange = (): ValueError => new ValueError(ErrorCode.OutOfRange, 'interval out of range');

/** Accumulator of Postgres's pg_itm_in: years and months kept apart until the end (their overflow differs). */
interface Acc {
  usec: bigint;
  days: number;
  months: number;
  years: number;
}

/** Thrown inside the decoders; the caller maps it to Postgres's message for the whole text. */
class FieldOverflow extends Error {}
class BadFormat extends Error {}

const fits32 = (n: number): boolean => n >= INT32_MIN && n <= INT32_MAX;

function add32(a: number, b: number): number {
  const r = a + b;
  if (!fits32(r)) throw new FieldOverflow();
  return r;
}

function addUsec(acc: Acc, v: bigint): void {
  const r = acc.usec + v;
  if (r < INT64_MIN || r > INT64_MAX) throw new FieldOverflow();
  acc.usec = r;
}

/** Postgres's AdjustFractMicroseconds: frac × scale truncated, the fractional µs rounded half away from zero. */
function fractMicros(acc: Acc, frac: number, scale: number): void {
  if (frac === 0) return;
  frac *= scale;
  let us = Math.trunc(frac);
  frac -= us;
  if (frac > 0.5) us++;
  else if (frac < -0.5) us--;
  addUsec(acc, BigInt(us));
}

/** AdjustFractDays: whole days of frac × scale go to days, the rest to µs. */
function fractDays(acc: Acc, frac: number, scale: number): void {
  if (frac === 0) return;
  frac *= scale;
  const extra = Math.trunc(frac);
  acc.days = add32(acc.days, extra);
  fractMicros(acc, frac - extra, 86_400_000_000);
}

/** AdjustFractYears: fractional years become whole months, rounded. */
function fractYears(acc: Acc, frac: number, scale: number): void {
  acc.months = add32(acc.months, rint(frac * scale * 12));
}

function mul64(v: bigint, scale: bigint): bigint {
  const r = v * scale;
  if (r < INT64_MIN || r > INT64_MAX) throw new FieldOverflow();
  return r;
}

function mul32(v: bigint, scale: number): number {
  const r = Number(v) * scale;
  if (!fits32(r)) throw new FieldOverflow();
  return r;
}

/** Adds `val + frac` of one unit (Postgres's DecodeInterval switch on the unit). */
function addUnit(acc: Acc, unit: string, val: bigint, frac: number): void {
  switch (unit) {
    case 'us':
      addUsec(acc, val);
      fractMicros(acc, frac, 1);
      return;
    case 'ms':
      addUsec(acc, mul64(val, 1000n));
      fractMicros(acc, frac, 1000);
      return;
    case 's':
      addUsec(acc, mul64(val, US_SECOND));
      fractMicros(acc, frac, 1_000_000);
      return;
    case 'min':
      addUsec(acc, mul64(val, US_MINUTE));
      fractMicros(acc, frac, 60_000_000);
      return;
    case 'h':
      addUsec(acc, mul64(val, US_HOUR));
      fractMicros(acc, frac, 3_600_000_000);
      return;
    case 'd':
      acc.days = add32(acc.days, mul32(val, 1));
      fractMicros(acc, frac, 86_400_000_000);
      return;
    case 'w':
      acc.days = add32(acc.days, mul32(val, 7));
      fractDays(acc, frac, 7);
      return;
    case 'mon':
      acc.months = add32(acc.months, mul32(val, 1));
      fractDays(acc, frac, 30);
      return;
    case 'y':
    case 'dec':
    case 'c':
    case 'mil': {
      const scale = unit === 'y' ? 1 : unit === 'dec' ? 10 : unit === 'c' ? 100 : 1000;
      acc.years = add32(acc.years, mul32(val, scale));
      fractYears(acc, frac, scale);
      return;
    }
    default:
      throw new BadFormat();
  }
}

/** Postgres's deltatktbl (units truncated to 10 characters, as its lookup does). */
const UNITS: Record<string, string> = {};
for (const [unit, names] of [
  ['us', 'microsecon us usec usecs useconds'],
  ['ms', 'millisecon ms msec msecs mseconds'],
  ['s', 's sec secs second seconds'],
  ['min', 'm min mins minute minutes'],
  ['h', 'h hour hours hr hrs'],
  ['d', 'd day days'],
  ['w', 'w week weeks'],
  ['mon', 'mon mons month months'],
  ['y', 'y year years yr yrs'],
  ['dec', 'dec decade decades decs'],
  ['c', 'c cent century centuries'],
  ['mil', 'mil mils millennium millennia'],
] as const) {
  for (const n of names.split(' ')) UNITS[n] = unit;
}
/** Units sharing one "field" bit: a unit may appear once (DTK_M masks); `time` covers h, min, s. */
const UNIT_MASK: Record<string, number> = {
  us: 1,
  ms: 2,
  s: 4,
  min: 8,
  h: 16,
  d: 32,
  w: 64,
  mon: 128,
  y: 256,
  dec: 512,
  c: 1024,
  mil: 2048,
};
const SECS_ALL = 1 | 2 | 4;
const TIME_MASK = 4 | 8 | 16;

type Field = { kind: 'num' | 'time' | 'signed' | 'word'; text: string };

/** Postgres's ParseDateTime, reduced to what interval input can use. */
function splitFields(s: string): Field[] {
  const out: Field[] = [];
  let i = 0;
  const n = s.length;
  const digit = (k: number) => k < n && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57;
  const alpha = (k: number) => k < n && /[A-Za-z]/.test(s[k]!);
  while (i < n) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (digit(i) || c === '.') {
      const st = i;
      while (digit(i)) i++;
      let kind: Field['kind'] = 'num';
      if (s[i] === ':') {
        kind = 'time';
        while (i < n && (digit(i) || s[i] === ':' || s[i] === '.')) i++;
      } else if (s[i] === '-' || s[i] === '/' || s[i] === '.') {
        const delim = s[i];
        i++;
        if (digit(i)) {
          while (digit(i)) i++;
          if (s[i] === delim) {
            kind = 'num';
            while (digit(i) || s[i] === delim) i++;
          }
        } else {
          while (i < n && (/[A-Za-z0-9]/.test(s[i]!) || s[i] === delim)) i++;
        }
      }
      out.push({ kind, text: s.slice(st, i) });
    } else if (alpha(i)) {
      const st = i;
      while (alpha(i)) i++;
      out.push({ kind: 'word', text: s.slice(st, i).toLowerCase() });
    } else if (c === '+' || c === '-') {
      i++;
      while (i < n && /\s/.test(s[i]!)) i++;
      if (digit(i)) {
        const st = i;
        while (i < n && (digit(i) || s[i] === ':' || s[i] === '.' || s[i] === '-')) i++;
        out.push({ kind: 'signed', text: c + s.slice(st, i) });
      } else if (alpha(i)) {
        const st = i;
        while (alpha(i)) i++;
        out.push({ kind: 'word', text: c + s.slice(st, i).toLowerCase() });
      } else throw new BadFormat();
    } else if (/[!-/:-@[-`{-~]/.test(c)) {
      i++;
    } else throw new BadFormat();
  }
  return out;
}

/** DecodeTimeForInterval: `h:mm[:ss[.f]]` or `mm:ss.f`, hours unbounded. */
function timeMicros(t: string): bigint {
  const m = /^(\d+):(\d+)(?::(\d+))?(\.\d*)?$/.exec(t);
  if (m === null) throw new BadFormat();
  let h = BigInt(m[1]!);
  let mi = Number(m[2]);
  let sec = m[3] === undefined ? 0 : Number(m[3]);
  let fsec = 0;
  if (m[4] !== undefined) {
    fsec = m[4].length > 1 ? rint(Number(`0${m[4]}`) * 1_000_000) : 0;
    if (m[3] === undefined) {
      // `mm:ss.fff` is MINUTE TO SECOND
      sec = mi;
      mi = Number(h);
      h = 0n;
    }
  }
  if (mi > 59 || sec > 60 || fsec > 1_000_000) throw new FieldOverflow();
  const r = h * US_HOUR + BigInt(mi) * US_MINUTE + BigInt(sec) * US_SECOND + BigInt(fsec);
  if (r > INT64_MAX) throw new FieldOverflow();
  return r;
}

/** Postgres's DecodeInterval for the verbose (`1 day 02:00 ago`) and SQL (`1-2 3 4:05:06`) forms. */
function decodeVerbose(text: string): Acc {
  const fields = splitFields(text);
  const acc: Acc = { usec: 0n, days: 0, months: 0, years: 0 };
  let fmask = 0;
  let type = '';
  let ago = false;
  for (let i = fields.length - 1; i >= 0; i--) {
    const f = fields[i]!;
    let tmask = 0;
    if (
      f.kind === 'time' ||
      (f.kind === 'signed' && f.text.includes(':') && /^.\d+:\d+(:\d+)?(\.\d*)?$/.test(f.text))
    ) {
      const body = f.kind === 'time' ? f.text : f.text.slice(1);
      let us = timeMicros(body);
      if (f.text[0] === '-') us = -us;
      addUsec(acc, us);
      tmask = TIME_MASK;
      type = 'd';
    } else if (f.kind === 'num' || f.kind === 'signed') {
      if (type === '') type = 's';
      const m = /^([+-]?)(\d*)(.*)$/.exec(f.text)!;
      const neg = m[1] === '-';
      if (m[2] === '' && !m[3]!.startsWith('.')) throw new BadFormat();
      let val = BigInt(m[2] === '' ? '0' : m[2]!) * (neg ? -1n : 1n);
      if (val < INT64_MIN || val > INT64_MAX) throw new FieldOverflow();
      const rest = m[3]!;
      let frac = 0;
      if (rest.startsWith('-')) {
        const ym = /^-\s*([+-]?\d*)(.*)$/.exec(rest)!;
        const v2 = ym[1] === '' || ym[1] === '+' || ym[1] === '-' ? 0 : Number(ym[1]);
        if (v2 < 0 || v2 >= 12) throw new FieldOverflow();
        if (ym[2] !== '') throw new BadFormat();
        type = 'mon';
        val = val * 12n + BigInt(neg ? -v2 : v2);
      } else if (rest.startsWith('.')) {
        if (!/^\.\d*$/.test(rest)) throw new BadFormat();
        frac = rest.length > 1 ? Number(`0${rest}`) : 0;
        if (neg) frac = -frac;
      } else if (rest !== '') throw new BadFormat();
      addUnit(acc, type, val, frac);
      tmask = type === 's' && frac !== 0 ? SECS_ALL : UNIT_MASK[type]!;
      if (type === 'h') type = 'd';
    } else {
      const w = f.text.length > 10 ? f.text.slice(0, 10) : f.text;
      if (w === '@') continue;
      if (w === 'ago') {
        ago = true;
        continue;
      }
      const u = UNITS[w];
      if (u === undefined) throw new BadFormat();
      type = u;
      continue;
    }
    if (tmask & fmask) throw new BadFormat();
    fmask |= tmask;
  }
  if (fmask === 0) throw new BadFormat();
  if (ago) {
    acc.usec = -acc.usec;
    if (acc.usec > INT64_MAX) throw new FieldOverflow();
    acc.days = -acc.days;
    acc.months = -acc.months;
    acc.years = -acc.years;
    if (!fits32(acc.days) || !fits32(acc.months) || !fits32(acc.years)) throw new FieldOverflow();
  }
  return acc;
}

/**
 * Postgres's ParseISO8601Number: the field is read as one double (so `e` notation works and the fraction carries
 * the double's error, which decides some half-µs roundings), split into integer part and signed fraction.
 */
function isoNumber(s: string, i: number): [bigint, number, number] {
  const m = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(s.slice(i));
  const c = s[i];
  if (m === null || c === '+') throw new BadFormat();
  const val = Number(m[0]);
  if (val < -1e15 || val > 1e15) throw new FieldOverflow();
  const ipart = val >= 0 ? Math.floor(val) : -Math.floor(-val);
  return [BigInt(ipart), val - ipart, i + m[0].length];
}

/** Postgres's DecodeISO8601Interval: `P…` with designators, or the alternative `P0001-02-03T04:05:06` format. */
function decodeIso(s: string): Acc {
  if (s.length < 2 || s[0] !== 'P') throw new BadFormat();
  const acc: Acc = { usec: 0n, days: 0, months: 0, years: 0 };
  let i = 1;
  let datePart = true;
  let haveField = false;
  while (i < s.length) {
    if (s[i] === 'T') {
      datePart = false;
      haveField = false;
      i++;
      continue;
    }
    const start = i;
    let [val, frac, j] = isoNumber(s, i);
    const unit = j < s.length ? s[j]! : '';
    i = unit === '' ? j : j + 1;
    const digitsWidth = /^[+-]?(\d*)/.exec(s.slice(start))![1]!.length;
    if (datePart) {
      if (unit === 'Y') addUnit(acc, 'y', val, frac);
      else if (unit === 'M') addUnit(acc, 'mon', val, frac);
      else if (unit === 'W') addUnit(acc, 'w', val, frac);
      else if (unit === 'D') addUnit(acc, 'd', val, frac);
      else if ((unit === 'T' || unit === '') && digitsWidth === 8 && !haveField) {
        acc.years = add32(acc.years, Number(val / 10000n));
        acc.months = add32(acc.months, Number((val / 100n) % 100n));
        acc.days = add32(acc.days, Number(val % 100n));
        fractMicros(acc, frac, 86_400_000_000);
        if (unit === '') return acc;
        datePart = false;
        haveField = false;
        continue;
      } else if (unit === 'T' || unit === '' || unit === '-') {
        if (haveField) throw new BadFormat();
        addUnit(acc, 'y', val, frac);
        if (unit === '') return acc;
        if (unit === 'T') {
          datePart = false;
          haveField = false;
          continue;
        }
        [val, frac, i] = isoNumber(s, i);
        addUnit(acc, 'mon', val, frac);
        if (i === s.length) return acc;
        if (s[i] === 'T') {
          datePart = false;
          haveField = false;
          i++;
          continue;
        }
        if (s[i] !== '-') throw new BadFormat();
        [val, frac, i] = isoNumber(s, i + 1);
        addUnit(acc, 'd', val, frac);
        if (i === s.length) return acc;
        if (s[i] === 'T') {
          datePart = false;
          haveField = false;
          i++;
          continue;
        }
        throw new BadFormat();
      } else throw new BadFormat();
    } else {
      if (unit === 'H') addUnit(acc, 'h', val, frac);
      else if (unit === 'M') addUnit(acc, 'min', val, frac);
      else if (unit === 'S') addUnit(acc, 's', val, frac);
      else if (unit === '' && digitsWidth === 6 && !haveField) {
        addUsec(acc, mul64(val / 10000n, US_HOUR));
        addUsec(acc, mul64((val / 100n) % 100n, US_MINUTE));
        addUsec(acc, mul64(val % 100n, US_SECOND));
        fractMicros(acc, frac, 1_000_000);
        return acc;
      } else if (unit === '' || unit === ':') {
        if (haveField) throw new BadFormat();
        addUnit(acc, 'h', val, frac);
        if (unit === '') return acc;
        [val, frac, i] = isoNumber(s, i);
        addUnit(acc, 'min', val, frac);
        if (i === s.length) return acc;
        if (s[i] !== ':') throw new BadFormat();
        [val, frac, i] = isoNumber(s, i + 1);
        addUnit(acc, 's', val, frac);
        if (i === s.length) return acc;
        throw new BadFormat();
      } else throw new BadFormat();
    }
    haveField = true;
  }
  return acc;
}

export function parseInterval(text: string): IntervalValue {
  let acc: Acc;
  try {
    if (text.charCodeAt(0) === 80) {
      // `P…` can never be a verbose interval (`p` is no unit), so skip straight to ISO 8601, the record form.
      acc = decodeIso(text);
    } else {
      try {
        acc = decodeVerbose(text);
      } catch (e) {
        if (!(e instanceof BadFormat)) throw e;
        acc = decodeIso(text);
      }
    }
  } catch (e) {
    if (e instanceof FieldOverflow) {
      throw new ValueError(ErrorCode.InvalidValue, `interval field value out of range: "${text}"`);
    }
    if (e instanceof BadFormat) throw invalidInput('interval', text);
    throw e;
  }
  const months = acc.years * 12 + acc.months;
  if (!fits32(months)) throw new ValueError(ErrorCode.InvalidValue, 'interval out of range');
  return { months, days: acc.days, micros: acc.usec };
}

function isoPart(n: number | bigint, unit: string): string {
  return n === 0 || n === 0n ? '' : `${n}${unit}`;
}

/** IntervalStyle iso_8601 output, as Postgres's EncodeInterval prints it. */
export function formatInterval(v: IntervalValue): string {
  const { months, days, micros } = v;
  if (months === 0 && days === 0 && micros === 0n) return 'PT0S';
  const years = Math.trunc(months / 12);
  const mons = months - years * 12;
  let out = `P${isoPart(years, 'Y')}${isoPart(mons, 'M')}${isoPart(days, 'D')}`;
  if (micros === 0n) return out;
  const hours = micros / US_HOUR;
  let rest = micros - hours * US_HOUR;
  const mins = rest / US_MINUTE;
  rest -= mins * US_MINUTE;
  const secs = rest / US_SECOND;
  const fsec = rest - secs * US_SECOND;
  out += `T${isoPart(hours, 'H')}${isoPart(mins, 'M')}`;
  if (secs !== 0n || fsec !== 0n) {
    const neg = secs < 0n || fsec < 0n;
    const as = secs < 0n ? -secs : secs;
    const af = fsec < 0n ? -fsec : fsec;
    let frac = '';
    if (af !== 0n) {
      frac = `${af + 1_000_000n}`.slice(1).replace(/0+$/, '');
      frac = `.${frac}`;
    }
    out += `${neg ? '-' : ''}${as}${frac}S`;
  }
  return out;
}

/** The normalised span Postgres compares intervals by: months × 30 days, days × 24 h, plus µs. */
export function intervalSpan(v: IntervalValue): bigint {
  return (BigInt(v.months) * 30n + BigInt(v.days)) * US_DAY + v.micros;
}

export function compareInterval(a: IntervalValue, b: IntervalValue): number {
  const x = intervalSpan(a);
  const y = intervalSpan(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function equalsInterval(a: IntervalValue, b: IntervalValue): boolean {
  if (a.months === b.months && a.days === b.days) return a.micros === b.micros;
  return intervalSpan(a) === intervalSpan(b);
}

/** Equal spans share a key ('1 day' and 'PT24H'). */
export function intervalKey(v: IntervalValue): string {
  return intervalSpan(v).toString();
}
