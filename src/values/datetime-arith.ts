// Date/time and interval arithmetic and casts, with Postgres 15's rounding, clamping and overflow rules (in UTC).
import { ErrorCode, ValueError, divisionByZero } from '../errors/index.js';
import {
  DATE_END,
  DATE_MIN,
  TS_END,
  TS_MIN,
  daysInMonth,
  dayToYmd,
  joinTimestamp,
  splitTimestamp,
  ymdToDay,
} from './datetime-format.js';
import { rint } from './datetime-parse.js';
import { US_DAY, intervalOutOfRange } from './interval.js';
import type { IntervalValue } from './types.js';

/** timestamp and timestamptz share a representation: bigint µs, or ±Infinity. */
export type TimestampValue = bigint | number;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO63 = 9223372036854775808;

const tsOutOfRange = (): ValueError => new ValueError(ErrorCode.OutOfRange, 'timestamp out of range');
const dateOutOfRange = (): ValueError => new ValueError(ErrorCode.OutOfRange, 'date out of range');
const fits32 = (n: number): boolean => n >= INT32_MIN && n <= INT32_MAX;

function check32(n: number): number {
  if (!fits32(n)) throw intervalOutOfRange();
  return n;
}

function check64(n: bigint): bigint {
  if (n < INT64_MIN || n > INT64_MAX) throw intervalOutOfRange();
  return n;
}

function checkTs(ts: bigint): bigint {
  if (ts < TS_MIN || ts >= TS_END) throw tsOutOfRange();
  return ts;
}

// --- date ---

/** date + int4 → date; infinite dates stay infinite. */
export function dateAddDays(date: number, days: number): number {
  if (!Number.isFinite(date)) return date;
  const r = date + days;
  if (r < DATE_MIN || r >= DATE_END) throw dateOutOfRange();
  return r;
}

export function dateSubDays(date: number, days: number): number {
  return dateAddDays(date, -days);
}

/** date − date → int4 (days). */
export function dateDiff(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) {
    throw new ValueError(ErrorCode.OutOfRange, 'cannot subtract infinite dates');
  }
  return a - b;
}

/** date → timestamp (midnight); also date → timestamptz, since the pinned TimeZone is UTC. */
export function dateToTimestamp(date: number): TimestampValue {
  if (!Number.isFinite(date)) return date;
  const ts = joinTimestamp(date, 0);
  if (ts >= TS_END) throw new ValueError(ErrorCode.OutOfRange, 'date out of range for timestamp');
  return ts;
}

/** date + time → timestamp. */
export function datePlusTime(date: number, time: number): TimestampValue {
  const ts = dateToTimestamp(date);
  if (typeof ts === 'number') return ts;
  return checkTs(ts + BigInt(time));
}

export function datePlusInterval(date: number, iv: IntervalValue): TimestampValue {
  return timestampPlusInterval(dateToTimestamp(date), iv);
}

export function dateMinusInterval(date: number, iv: IntervalValue): TimestampValue {
  return timestampMinusInterval(dateToTimestamp(date), iv);
}

// --- timestamp / timestamptz ---

/**
 * timestamp + interval: months first (clamping the day to the month's end), then days through the calendar, then
 * µs. timestamptz + interval is the same computation, because the calendar is UTC's.
 */
export function timestampPlusInterval(ts: TimestampValue, iv: IntervalValue): TimestampValue {
  if (typeof ts === 'number') return ts;
  let t = ts;
  if (iv.months !== 0 || iv.days !== 0) {
    const { day, time } = splitTimestamp(t);
    let { year, month, day: mday } = dayToYmd(day);
    if (iv.months !== 0) {
      month += iv.months;
      if (month > 12) {
        year += Math.trunc((month - 1) / 12);
        month = ((month - 1) % 12) + 1;
      } else if (month < 1) {
        year += Math.trunc(month / 12) - 1;
        month = (month % 12) + 12;
      }
      const dim = daysInMonth(year, month);
      if (mday > dim) mday = dim;
      if (!validJulian(year, month, mday)) throw tsOutOfRange();
    }
    let dayNum = ymdToDay(year, month, mday);
    if (iv.days !== 0) {
      checkTs(joinTimestamp(dayNum, time));
      dayNum += iv.days;
      const jd = dayNum + 2440588;
      if (jd < 0 || jd > 2147483647) throw tsOutOfRange();
    }
    t = checkTs(joinTimestamp(dayNum, time));
  }
  return checkTs(t + iv.micros);
}

function validJulian(y: number, m: number, d: number): boolean {
  return (y > -4713 || (y === -4713 && (m > 11 || (m === 11 && d >= 24)))) && (y < 5874898 || (y === 5874898 && m < 6));
}

export function timestampMinusInterval(ts: TimestampValue, iv: IntervalValue): TimestampValue {
  return timestampPlusInterval(ts, { months: -iv.months, days: -iv.days, micros: -iv.micros });
}

/** timestamp − timestamp → interval of days and µs (Postgres applies justify_hours to the raw difference). */
export function timestampDiff(a: TimestampValue, b: TimestampValue): IntervalValue {
  if (typeof a === 'number' || typeof b === 'number') {
    throw new ValueError(ErrorCode.OutOfRange, 'cannot subtract infinite timestamps');
  }
  // Postgres 15 subtracts without an overflow check (only the full range's extremes wrap); asIntN matches it.
  return justifyHours({ months: 0, days: 0, micros: BigInt.asIntN(64, a - b) });
}

/** timestamp → date (and timestamptz → date in UTC). */
export function timestampToDate(ts: TimestampValue): number {
  if (typeof ts === 'number') return ts;
  return splitTimestamp(ts).day;
}

/** timestamp → time; Postgres yields NULL for an infinite timestamp. */
export function timestampToTime(ts: TimestampValue): number | null {
  if (typeof ts === 'number') return null;
  return splitTimestamp(ts).time;
}

// --- time ---

/** time ± interval → time: only the µs part counts, wrapping modulo 24 hours. */
export function timePlusInterval(time: number, iv: IntervalValue): number {
  // Postgres adds in int64 without an overflow check; asIntN reproduces its wrap-around.
  let r = BigInt.asIntN(64, BigInt(time) + iv.micros) % US_DAY;
  if (r < 0n) r += US_DAY;
  return Number(r);
}

export function timeMinusInterval(time: number, iv: IntervalValue): number {
  let r = BigInt.asIntN(64, BigInt(time) - iv.micros) % US_DAY;
  if (r < 0n) r += US_DAY;
  return Number(r);
}

/** time → interval. */
export function timeToInterval(time: number): IntervalValue {
  return { months: 0, days: 0, micros: BigInt(time) };
}

// --- interval ---

export function intervalAdd(a: IntervalValue, b: IntervalValue): IntervalValue {
  return {
    months: check32(a.months + b.months),
    days: check32(a.days + b.days),
    micros: check64(a.micros + b.micros),
  };
}

export function intervalSub(a: IntervalValue, b: IntervalValue): IntervalValue {
  return {
    months: check32(a.months - b.months),
    days: check32(a.days - b.days),
    micros: check64(a.micros - b.micros),
  };
}

export function intervalNeg(a: IntervalValue): IntervalValue {
  return { months: check32(-a.months), days: check32(-a.days), micros: check64(-a.micros) };
}

/** Postgres's TSROUND: rounds to 10^-6 to make near-whole float results whole. */
const tsRound = (x: number): number => rint(x * 1e6) / 1e6;

function fitsFloat32(x: number): boolean {
  return !Number.isNaN(x) && x >= INT32_MIN && x < -INT32_MIN;
}

/** The shared tail of interval_mul and interval_div: fractions of months and days cascade down, never up. */
function scaleInterval(monthsF: number, daysF: number, timeF: number): IntervalValue {
  if (!fitsFloat32(monthsF) || !fitsFloat32(daysF)) throw intervalOutOfRange();
  const months = Math.trunc(monthsF);
  let days = Math.trunc(daysF);
  const monthRemainderDays = tsRound((monthsF - months) * 30);
  let secRemainder = tsRound((daysF - days + monthRemainderDays - Math.trunc(monthRemainderDays)) * 86400);
  if (Math.abs(secRemainder) >= 86400) {
    const extra = Math.trunc(secRemainder / 86400);
    days = check32(days + extra);
    secRemainder -= extra * 86400;
  }
  days = check32(days + Math.trunc(monthRemainderDays));
  const micros = rint(timeF + secRemainder * 1e6);
  if (Number.isNaN(micros) || micros < -TWO63 || micros >= TWO63) throw intervalOutOfRange();
  return { months: months === 0 ? 0 : months, days: days === 0 ? 0 : days, micros: BigInt(micros) };
}

/** interval * float8. */
export function intervalMul(iv: IntervalValue, factor: number): IntervalValue {
  return scaleInterval(iv.months * factor, iv.days * factor, Number(iv.micros) * factor);
}

/** interval / float8. */
export function intervalDiv(iv: IntervalValue, factor: number): IntervalValue {
  if (factor === 0) throw divisionByZero();
  return scaleInterval(iv.months / factor, iv.days / factor, Number(iv.micros) / factor);
}

/** justify_hours: whole days of µs move to days, with days and µs given the same sign. */
export function justifyHours(iv: IntervalValue): IntervalValue {
  const wholeDay = iv.micros / US_DAY;
  let micros = iv.micros - wholeDay * US_DAY;
  let days = check32(iv.days + Number(wholeDay));
  if (days > 0 && micros < 0n) {
    micros += US_DAY;
    days--;
  } else if (days < 0 && micros > 0n) {
    micros -= US_DAY;
    days++;
  }
  return { months: iv.months, days, micros };
}

/** justify_days: whole 30-day periods move to months, with months and days given the same sign. */
export function justifyDays(iv: IntervalValue): IntervalValue {
  const wholeMonth = Math.trunc(iv.days / 30);
  let days = iv.days - wholeMonth * 30;
  let months = check32(iv.months + wholeMonth);
  if (months > 0 && days < 0) {
    days += 30;
    months--;
  } else if (months < 0 && days > 0) {
    days -= 30;
    months++;
  }
  return { months, days, micros: iv.micros };
}

/** justify_interval: justify_hours then justify_days, with signs made consistent across all three parts. */
export function justifyInterval(iv: IntervalValue): IntervalValue {
  const wholeDay = iv.micros / US_DAY;
  let micros = iv.micros - wholeDay * US_DAY;
  // Postgres sums days in 64 bits here, so only the month count can overflow.
  const allDays = iv.days + Number(wholeDay);
  const wholeMonth = Math.trunc(allDays / 30);
  let days = allDays - wholeMonth * 30;
  let months = check32(iv.months + wholeMonth);
  if (months > 0 && (days < 0 || (days === 0 && micros < 0n))) {
    days += 30;
    months--;
  } else if (months < 0 && (days > 0 || (days === 0 && micros > 0n))) {
    days -= 30;
    months++;
  }
  if (days > 0 && micros < 0n) {
    micros += US_DAY;
    days--;
  } else if (days < 0 && micros > 0n) {
    micros -= US_DAY;
    days++;
  }
  return { months, days, micros };
}

/** time − time → interval (µs only). */
export function timeMinusTime(a: number, b: number): IntervalValue {
  return { months: 0, days: 0, micros: BigInt(a - b) };
}

/** interval → time: the µs part modulo 24 hours (months and days are dropped, as Postgres does). */
export function intervalToTime(iv: IntervalValue): number {
  let r = iv.micros % US_DAY;
  if (r < 0n) r += US_DAY;
  return Number(r);
}

// Names the evaluator uses: timestamptz arithmetic is timestamp arithmetic under the pinned UTC.
export const timestamptzPlusInterval = timestampPlusInterval;
export const timestamptzMinusInterval = timestampMinusInterval;
export const timestampMinusTimestamp = timestampDiff;
export const intervalPlus = intervalAdd;
export const intervalMinus = intervalSub;
