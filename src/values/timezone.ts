// Time zones for timezone()/AT TIME ZONE: Postgres's abbreviations, POSIX offsets and IANA names via Intl.
import { ErrorCode, ValueError } from '../errors/index.js';
import { TS_END, TS_MIN } from './datetime-format.js';

/** A resolved zone: a fixed offset (seconds east of UTC) or an IANA zone read through Intl. */
export type Zone =
  | { readonly kind: 'fixed'; readonly name: string; readonly offset: number }
  | {
      readonly kind: 'iana';
      readonly name: string;
      readonly fmt: Intl.DateTimeFormat;
      /** Offset per UTC hour index, for hours without a transition (formatToParts costs microseconds). */
      readonly hours: Map<number, number>;
    };

/**
 * Postgres 15's default abbreviation set (share/timezonesets/Default): fixed offsets in seconds east, or the zone a
 * dynamic abbreviation follows. Postgres looks abbreviations up before zone names, which matters for CET, EET, MET,
 * WET, EST, MST and HST: as abbreviations they are fixed, while the IANA zones of the same names observe DST.
 */
const ABBREVS =
  'EAT 10800;SAST 7200;WAT 3600;ACT -18000;AKDT -28800;AKST -32400;ART America/Argentina/Buenos_Aires;' +
  'ARST America/Argentina/Buenos_Aires;BOT -14400;BRA -10800;BRST -7200;BRT -10800;COT -18000;CDT -18000;' +
  'CLST -10800;CLT America/Santiago;CST -21600;EDT -14400;EGST 0;EGT -3600;EST -18000;FNT -7200;FNST -3600;' +
  'GFT -10800;GYT America/Guyana;MDT -21600;MST -25200;NDT -9000;NFT -12600;NST -12600;PET -18000;PDT -25200;' +
  'PMDT -7200;PMST -10800;PST -28800;PYST -10800;PYT America/Asuncion;UYST -7200;UYT -10800;VET America/Caracas;' +
  'WGST -7200;WGT -10800;DAVT Antarctica/Davis;DDUT 36000;MAWT Antarctica/Mawson;AFT 16200;ALMT 21600;' +
  'ALMST 25200;AMST Asia/Yerevan;AMT -14400;ANAST Asia/Anadyr;ANAT Asia/Anadyr;AZST Asia/Baku;AZT Asia/Baku;' +
  'BDT 21600;BNT 28800;BORT 28800;BTT 21600;CCT 28800;GEST Asia/Tbilisi;GET Asia/Tbilisi;HKT 28800;ICT 25200;' +
  'IDT 10800;IRKST Asia/Irkutsk;IRKT Asia/Irkutsk;IRT 12600;IST 7200;JAYT 32400;JST 32400;KDT 36000;' +
  'KGST 21600;KGT Asia/Bishkek;KRAST Asia/Krasnoyarsk;KRAT Asia/Krasnoyarsk;KST 32400;LKT Asia/Colombo;' +
  'MAGST Asia/Magadan;MAGT Asia/Magadan;MMT 23400;MYT 28800;NOVST Asia/Novosibirsk;NOVT Asia/Novosibirsk;' +
  'NPT 20700;OMSST Asia/Omsk;OMST Asia/Omsk;PETST Asia/Kamchatka;PETT Asia/Kamchatka;PHT 28800;PKT 18000;' +
  'PKST 21600;SGT Asia/Singapore;TJT 18000;TMT Asia/Ashgabat;ULAST 32400;ULAT Asia/Ulaanbaatar;UZST 21600;' +
  'UZT 18000;VLAST Asia/Vladivostok;VLAT Asia/Vladivostok;XJT 21600;YAKST Asia/Yakutsk;YAKT Asia/Yakutsk;' +
  'YEKST 21600;YEKT Asia/Yekaterinburg;ADT -10800;AST -14400;AZOST 0;AZOT -3600;FKST Atlantic/Stanley;' +
  'FKT Atlantic/Stanley;ACSST 37800;ACDT 37800;ACST 34200;ACWST 31500;AESST 39600;AEDT 39600;AEST 36000;' +
  'AWSST 32400;AWST 28800;CADT 37800;CAST 34200;LHDT Australia/Lord_Howe;LHST 37800;LIGT 36000;NZT 43200;' +
  'SADT 37800;WADT 28800;WAST 25200;WDT 32400;GMT 0;UCT 0;UT 0;UTC 0;Z 0;ZULU 0;BST 3600;BDST 7200;CEST 7200;' +
  'CET 3600;CETDST 7200;EEST 10800;EET 7200;EETDST 10800;FET 10800;MEST 7200;MESZ 7200;MET 3600;METDST 7200;' +
  'MEZ 3600;MSD 14400;MSK Europe/Moscow;VOLT Europe/Volgograd;WET 0;WETDST 3600;CXT 25200;IOT Indian/Chagos;' +
  'MUT 14400;MUST 18000;MVT 18000;RET 14400;SCT 14400;TFT 18000;CHADT 49500;CHAST 45900;CHUT 36000;' +
  'CKT Pacific/Rarotonga;EASST Pacific/Easter;EAST Pacific/Easter;FJST 46800;FJT 43200;GALT -21600;' +
  'GAMT -32400;GILT 43200;HST -36000;KOST Pacific/Kosrae;LINT Pacific/Kiritimati;MART -34200;MHT 43200;' +
  'MPT 36000;NUT Pacific/Niue;NZDT 46800;NZST 43200;PGT 36000;PONT 39600;PWT 32400;TAHT -36000;' +
  'TKT Pacific/Fakaofo;TOT 46800;TRUT 36000;TVT 43200;VUT 39600;WAKT 43200;WFT 43200;YAPT 36000';

let abbrevMap: Map<string, string> | undefined;

function abbrev(lower: string): string | undefined {
  if (abbrevMap === undefined) {
    abbrevMap = new Map();
    for (const entry of ABBREVS.split(';')) {
      const [name, value] = entry.split(' ') as [string, string];
      abbrevMap.set(name.toLowerCase(), value);
    }
  }
  return abbrevMap.get(lower);
}

/** Whether `name` is one of Postgres's default time zone abbreviations (case-insensitive). */
export function isAbbreviation(name: string): boolean {
  return abbrev(name.toLowerCase()) !== undefined;
}

/**
 * POSIX `[STD]±h[:mm[:ss]]` without a DST part (hours up to 167, as Postgres's tzparse allows). Its sign is
 * inverted: `+02` and `UTC+2` are two hours WEST of Greenwich.
 */
const POSIX_FIXED = /^(?:[A-Za-z]+|<[A-Za-z0-9+-]+>)?([+-]?)(\d{1,3})(?::(\d{1,2})(?::(\d{1,2}))?)?$/;

const cache = new Map<string, Zone | null>();

function ianaZone(name: string): Zone | null {
  try {
    const fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    return { kind: 'iana', name: fmt.resolvedOptions().timeZone, fmt, hours: new Map() };
  } catch {
    return null;
  }
}

function lookup(name: string): Zone | null {
  const lower = name.toLowerCase();
  const ab = abbrev(lower);
  if (ab !== undefined) {
    if (/^-?\d+$/.test(ab)) return { kind: 'fixed', name, offset: Number(ab) };
    // A dynamic abbreviation means the offset it had in its zone at (or nearest to) the instant, which Intl
    // cannot tell us; following the zone's offset would be wrong whenever the zone used another abbreviation.
    throw new ValueError(
      ErrorCode.NotSupported,
      `time zone abbreviation "${name}" is not supported in where clauses (its offset depends on the date; use ${ab})`,
    );
  }
  const m = POSIX_FIXED.exec(name);
  if (m !== null) {
    const secs = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    if (Number(m[2]) > 167 || Number(m[3] ?? 0) > 59 || Number(m[4] ?? 0) > 59) return null;
    return { kind: 'fixed', name, offset: m[1] === '-' ? secs : -secs };
  }
  // Intl also understands offset strings and custom `GMT+n` ids that Postgres does not; those were handled above.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return null;
  return ianaZone(name);
}

/** The zone named by `name` as Postgres's timezone() resolves it, or null when Postgres would not recognise it. */
export function resolveZone(name: string): Zone | null {
  let z = cache.get(name);
  if (z === undefined) {
    z = lookup(name);
    if (cache.size > 10_000) cache.clear();
    cache.set(name, z);
  }
  return z;
}

/** Resolves a zone or throws Postgres's error; used when a shape is created so rows never see a bad zone. */
export function validateZone(name: string): Zone {
  const z = resolveZone(name);
  if (z === null) throw new ValueError(ErrorCode.InvalidLiteral, `time zone "${name}" not recognized`);
  return z;
}

/** Seconds in 400 Gregorian years: calendars and DST rules repeat with this period, which lets us stay in Intl's range. */
const CYCLE_SECONDS = 146097 * 86400;
const INTL_LIMIT_SECONDS = 8.64e12 - CYCLE_SECONDS;

/** Offset (seconds east) of an IANA zone at a UTC instant given in whole seconds since 1970. */
function ianaOffset(fmt: Intl.DateTimeFormat, utcSeconds: number): number {
  let t = utcSeconds;
  while (t > INTL_LIMIT_SECONDS) t -= CYCLE_SECONDS;
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  let bc = false;
  for (const p of fmt.formatToParts(t * 1000)) {
    switch (p.type) {
      case 'year':
        y = Number(p.value);
        break;
      case 'month':
        mo = Number(p.value);
        break;
      case 'day':
        d = Number(p.value);
        break;
      case 'hour':
        h = Number(p.value);
        break;
      case 'minute':
        mi = Number(p.value);
        break;
      case 'second':
        s = Number(p.value);
        break;
      case 'era':
        bc = p.value.startsWith('B');
        break;
      default:
        break;
    }
  }
  const date = new Date(0);
  date.setUTCFullYear(bc ? 1 - y : y, mo - 1, d);
  date.setUTCHours(h, mi, s, 0);
  return date.getTime() / 1000 - t;
}

/** Offset in seconds east of UTC that `zone` has at the UTC instant `utcMicros`. */
export function zoneOffsetAt(zone: Zone, utcMicros: bigint): number {
  if (zone.kind === 'fixed') return zone.offset;
  const sec = Number(utcMicros / 1_000_000n - (utcMicros % 1_000_000n < 0n ? 1n : 0n));
  const hour = Math.floor(sec / 3600);
  const cached = zone.hours.get(hour);
  if (cached !== undefined) return cached;
  // An hour whose first and last second share an offset has no transition in it (tzdata never has two transitions
  // within one hour), so the offset holds for all of it.
  const first = ianaOffset(zone.fmt, hour * 3600);
  if (first !== ianaOffset(zone.fmt, hour * 3600 + 3599)) return ianaOffset(zone.fmt, sec);
  if (zone.hours.size > 100_000) zone.hours.clear();
  zone.hours.set(hour, first);
  return first;
}

const DAY_MICROS = 86_400_000_000n;

/**
 * UTC instant of a wall-clock time in `zone`, resolving transitions as Postgres does: a time skipped by a
 * spring-forward gap takes the offset from before the gap, an ambiguous fall-back time the offset from after it.
 */
export function zoneLocalToUtc(zone: Zone, localMicros: bigint): bigint {
  if (zone.kind === 'fixed') return localMicros - BigInt(zone.offset) * 1_000_000n;
  const before = zoneOffsetAt(zone, localMicros - DAY_MICROS);
  const after = zoneOffsetAt(zone, localMicros + DAY_MICROS);
  const u1 = localMicros - BigInt(before) * 1_000_000n;
  if (before === after) {
    const actual = zoneOffsetAt(zone, u1);
    if (actual === before) return u1;
    // Two transitions within a day (rare): fall back to the offset in force at the first guess.
    return localMicros - BigInt(actual) * 1_000_000n;
  }
  const u2 = localMicros - BigInt(after) * 1_000_000n;
  const valid2 = zoneOffsetAt(zone, u2) === after;
  if (valid2) return u2;
  return u1;
}

const rangeError = (): ValueError => new ValueError(ErrorCode.OutOfRange, 'timestamp out of range');

/** timezone(zone, timestamp) → timestamptz: reads the wall-clock value in `zone`. */
export function timezoneOfTimestamp(zone: Zone | string, ts: bigint | number): bigint | number {
  if (typeof ts === 'number') return ts;
  const z = typeof zone === 'string' ? validateZone(zone) : zone;
  const r = zoneLocalToUtc(z, ts);
  if (r < TS_MIN || r >= TS_END) throw rangeError();
  return r;
}

/** timezone(zone, timestamptz) → timestamp: the wall-clock time in `zone` at that instant. */
export function timezoneOfTimestamptz(zone: Zone | string, ts: bigint | number): bigint | number {
  if (typeof ts === 'number') return ts;
  const z = typeof zone === 'string' ? validateZone(zone) : zone;
  const r = ts + BigInt(zoneOffsetAt(z, ts)) * 1_000_000n;
  if (r < TS_MIN || r >= TS_END) throw rangeError();
  return r;
}
