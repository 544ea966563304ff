// Calendar arithmetic (Julian day numbers, as Postgres computes them) and the text output of date/time values.

/** Julian day number of 1970-01-01: our day numbers are `julian - UNIX_EPOCH_JD`. */
export const UNIX_EPOCH_JD = 2440588;
export const USECS_PER_DAY = 86_400_000_000;
export const USECS_PER_DAY_N = 86_400_000_000n;
/** First valid date (4714-11-24 BC, Julian day 0) and one past the last (5874898-01-01), as day numbers. */
export const DATE_MIN = -UNIX_EPOCH_JD;
export const DATE_END = 2147483494 - UNIX_EPOCH_JD;
/** Timestamp range [4714-11-24 00:00 BC, 294277-01-01 00:00) in µs since 1970, as Postgres's MIN/END_TIMESTAMP. */
export const TS_MIN = -211813488000000000n + 946684800000000n;
export const TS_END = 9223371331200000000n + 946684800000000n;

/** Postgres's date2j: proleptic Gregorian (y, m, d) to Julian day; year 0 is 1 BC. */
export function date2j(y: number, m: number, d: number): number {
  if (m > 2) {
    m += 1;
    y += 4800;
  } else {
    m += 13;
    y += 4799;
  }
  const century = Math.floor(y / 100);
  let julian = y * 365 - 32167;
  julian += Math.floor(y / 4) - century + Math.floor(century / 4);
  julian += Math.floor((7834 * m) / 256) + d;
  return julian;
}

// Scratch output of j2date: returning a tuple would allocate on every formatted row.
let outY = 0;
let outM = 0;
let outD = 0;

/** Postgres's j2date, valid for every non-negative Julian day; results in the module scratch fields. */
function j2date(jd: number): void {
  let julian = jd + 32044;
  let quad = Math.floor(julian / 146097);
  const extra = (julian - quad * 146097) * 4 + 3;
  julian += 60 + quad * 3 + Math.floor(extra / 146097);
  quad = Math.floor(julian / 1461);
  julian -= quad * 1461;
  let y = Math.floor((julian * 4) / 1461);
  julian = (y !== 0 ? (julian + 305) % 365 : (julian + 306) % 366) + 123;
  y += quad * 4;
  outY = y - 4800;
  quad = Math.floor((julian * 2141) / 65536);
  outD = julian - Math.floor((7834 * quad) / 256);
  outM = ((quad + 10) % 12) + 1;
}

/** Calendar (y, m, d) of a day number; y ≤ 0 means (1 − y) BC. */
export function dayToYmd(day: number): { year: number; month: number; day: number } {
  j2date(day + UNIX_EPOCH_JD);
  return { year: outY, month: outM, day: outD };
}

export function ymdToDay(y: number, m: number, d: number): number {
  return date2j(y, m, d) - UNIX_EPOCH_JD;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function isLeap(y: number): boolean {
  return y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
}

export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]!;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function pad4(n: number): string {
  return n >= 1000 ? `${n}` : n >= 100 ? `0${n}` : n >= 10 ? `00${n}` : `000${n}`;
}

/** `YYYY-MM-DD` of the scratch fields (year printed as Postgres does: ≤ 0 shown as its BC number). */
function ymdText(): string {
  const y = outY > 0 ? outY : 1 - outY;
  return `${pad4(y)}-${pad2(outM)}-${pad2(outD)}`;
}

export function formatDate(day: number): string {
  if (day === Infinity) return 'infinity';
  if (day === -Infinity) return '-infinity';
  j2date(day + UNIX_EPOCH_JD);
  return outY > 0 ? ymdText() : `${ymdText()} BC`;
}

/** Seconds with a trimmed fraction: `05`, `05.12`, `05.000001`. */
function secondsText(sec: number, usec: number): string {
  if (usec === 0) return pad2(sec);
  let frac = `${usec + 1_000_000}`.slice(1);
  let end = frac.length;
  while (frac.charCodeAt(end - 1) === 48) end--;
  frac = frac.slice(0, end);
  return `${pad2(sec)}.${frac}`;
}

/** `HH:MM:SS[.ffffff]` of µs since midnight (0 … 24:00:00 inclusive). */
export function formatTime(us: number): string {
  const totalSec = Math.floor(us / 1_000_000);
  const usec = us - totalSec * 1_000_000;
  const h = Math.floor(totalSec / 3600);
  const m = Math.floor((totalSec - h * 3600) / 60);
  const s = totalSec - h * 3600 - m * 60;
  return `${pad2(h)}:${pad2(m)}:${secondsText(s, usec)}`;
}

/** Splits µs since 1970 into a day number and µs of day (floor division, so times before 1970 work). */
export function splitTimestamp(ts: bigint): { day: number; time: number } {
  if (ts > -9007199254740991n && ts < 9007199254740991n) {
    // Fast path: µs fit a double exactly for years 1685…2255, which is nearly every real row.
    const n = Number(ts);
    const day = Math.floor(n / USECS_PER_DAY);
    return { day, time: n - day * USECS_PER_DAY };
  }
  let day = ts / USECS_PER_DAY_N;
  let time = ts - day * USECS_PER_DAY_N;
  if (time < 0n) {
    time += USECS_PER_DAY_N;
    day -= 1n;
  }
  return { day: Number(day), time: Number(time) };
}

/** Joins a day number and µs of day into µs since 1970. */
export function joinTimestamp(day: number, time: number): bigint {
  // |day| < 104_000 keeps day × 86 400 000 000 + time below 2^53, so the double sum is exact.
  if (day > -104_000 && day < 104_000) return BigInt(day * USECS_PER_DAY + time);
  return BigInt(day) * USECS_PER_DAY_N + BigInt(time);
}

function timestampText(ts: bigint, suffix: string): string {
  const { day, time } = splitTimestamp(ts);
  j2date(day + UNIX_EPOCH_JD);
  const bc = outY <= 0;
  const text = `${ymdText()} ${formatTime(time)}${suffix}`;
  return bc ? `${text} BC` : text;
}

export function formatTimestamp(ts: bigint | number): string {
  if (typeof ts === 'number') return ts > 0 ? 'infinity' : '-infinity';
  return timestampText(ts, '');
}

/** Under the pinned TimeZone='UTC' the offset is always `+00`. */
export function formatTimestamptz(ts: bigint | number): string {
  if (typeof ts === 'number') return ts > 0 ? 'infinity' : '-infinity';
  return timestampText(ts, '+00');
}
