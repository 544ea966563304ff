// Edge-case input literals per type for the differential tier: the values Postgres and Switchyard are most likely to disagree on.

/** The types the generators know. Array types are written `T[]` as in SQL. */
export type Ty =
  | 'int2'
  | 'int4'
  | 'int8'
  | 'numeric'
  | 'float4'
  | 'float8'
  | 'text'
  | 'varchar'
  | 'bpchar'
  | 'name'
  | 'bool'
  | 'uuid'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'timestamptz'
  | 'interval'
  | 'jsonb'
  | 'int4[]'
  | 'int8[]'
  | 'text[]'
  | 'numeric[]'
  | 'float8[]'
  | 'bool[]'
  | 'date[]'
  | 'timestamptz[]';

/**
 * The test table. Names map to the type names given to compileWhere and to the oracle's CREATE TABLE (so typmods
 * and quoted names are exercised too). The generator's type of each column is in COLUMN_TY.
 */
export const COLUMNS: Readonly<Record<string, string>> = {
  i2: 'int2',
  i4: 'integer',
  i8: 'bigint',
  n: 'numeric',
  n2: 'numeric(12,3)',
  f4: 'real',
  f8: 'double precision',
  t: 'text',
  vc: 'character varying',
  'Mixed Case': 'varchar(8)',
  c5: 'char(5)',
  nm: 'name',
  b: 'bool',
  u: 'uuid',
  d: 'date',
  tm: 'time',
  ts: 'timestamp',
  tz: 'timestamptz',
  iv: 'interval',
  j: 'jsonb',
  ai4: 'int4[]',
  ai8: 'int8[]',
  at: 'text[]',
  an: 'numeric[]',
  af8: 'float8[]',
  ab: 'bool[]',
  ad: 'date[]',
  atz: 'timestamptz[]',
};

export const COLUMN_TY: Readonly<Record<string, Ty>> = {
  i2: 'int2',
  i4: 'int4',
  i8: 'int8',
  n: 'numeric',
  n2: 'numeric',
  f4: 'float4',
  f8: 'float8',
  t: 'text',
  vc: 'varchar',
  'Mixed Case': 'varchar',
  c5: 'bpchar',
  nm: 'name',
  b: 'bool',
  u: 'uuid',
  d: 'date',
  tm: 'time',
  ts: 'timestamp',
  tz: 'timestamptz',
  iv: 'interval',
  j: 'jsonb',
  ai4: 'int4[]',
  ai8: 'int8[]',
  at: 'text[]',
  an: 'numeric[]',
  af8: 'float8[]',
  ab: 'bool[]',
  ad: 'date[]',
  atz: 'timestamptz[]',
};

const INT2 = ['0', '1', '-1', '2', '7', '-7', '32767', '-32768', '181', '255'];
const INT4 = ['0', '1', '-1', '2', '3', '7', '-7', '100', '46341', '2147483647', '-2147483648', '65536', ' +5 '];
const INT8 = [
  '0',
  '1',
  '-1',
  '7',
  '9223372036854775807',
  '-9223372036854775808',
  '-9223372036854775807',
  '9007199254740993',
  '9007199254740992',
  '9007199254740991',
  '-9007199254740993',
  '3037000500',
  '4294967296',
  '2147483648',
];
const NUMERIC = [
  '0',
  '0.0',
  '1',
  '1.50',
  '-1.5',
  '2.5',
  '-2.5',
  '0.1',
  '0.3',
  '-0.00',
  '7',
  '123456789012345678901234567890',
  '0.000000000000000000000000000001',
  '12345678901234567890.123456789',
  '98765432109876543210.98765432109',
  'NaN',
  'Infinity',
  '-Infinity',
  '1e-20',
  '1e30',
  '3.14159265358979323846264338327',
  '999999999.999',
];
const FLOAT4 = [
  '0',
  '-0',
  '1',
  '0.1',
  '-2.5',
  '2.5',
  '1e20',
  '1e-05',
  '3.4028235e+38',
  '1.4e-45',
  '16777217',
  'NaN',
  'Infinity',
  '-Infinity',
  '7',
];
const FLOAT8 = [
  '0',
  '-0',
  '1',
  '0.1',
  '0.3',
  '0.30000000000000004',
  '-2.5',
  '2.5',
  '7',
  '1.2345678901234568e+17',
  '5e-324',
  '1.7976931348623157e+308',
  '9007199254740993',
  '1e-05',
  '1e+20',
  'NaN',
  'Infinity',
  '-Infinity',
  '-inf',
  ' nan ',
];
const TEXT = [
  '',
  'a',
  'B',
  'b',
  'abc',
  'ABC',
  'abc  ',
  ' lead',
  'a_c',
  'a%c',
  'a\\b',
  'ends\\',
  'É',
  'é',
  'ÿ',
  '😀',
  'a😀z',
  "x'y",
  'NULL',
  'null',
  '{a,b}',
  'a,b',
  '"q"',
  'Z',
  'zz',
  '\uFFFD',
  'abcdefghijk',
  '7',
  '2024-01-31',
  'true',
];
const BOOL = ['t', 'f', 'true', 'FALSE', 'yes', 'no', 'on', 'off', '1', '0'];
const UUID = [
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  '{a0eebc999c0b4ef8bb6d6bb9bd380a11}',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '7fffffff-ffff-ffff-ffff-ffffffffffff',
  '80000000-0000-0000-0000-000000000000',
];
const DATE = [
  '2024-01-31',
  '2024-02-29',
  '2023-03-31',
  '1970-01-01',
  '2000-12-31',
  '0044-03-15 BC',
  '4713-01-01 BC',
  '0001-01-01',
  '0001-12-31 BC',
  'infinity',
  '-infinity',
  '2024-01-01',
  '9999-12-31',
];
const TIME = ['00:00:00', '12:00:00.5', '23:59:59.999999', '24:00:00', '13:14:15.123456', '01:02:03', '12:00:00'];
const TIMESTAMP = [
  '2024-01-02 03:04:05.12',
  '2024-01-31 00:00:00',
  '2024-02-29 12:00:00',
  '1970-01-01 00:00:00',
  '1999-12-31 23:59:59.999999',
  '0044-03-15 10:00:00 BC',
  '2024-01-01 00:00:00',
  'infinity',
  '-infinity',
  '2000-01-01 00:00:00.000001',
  '2023-12-31T23:00:00Z',
];
const TIMESTAMPTZ = [
  '2024-01-02 03:04:05.120001+02',
  '2024-01-02 01:04:05.120002+00',
  '2024-06-30 23:59:59.999999-08',
  '2024-01-01 00:00:00+00',
  '2024-01-01 05:30:00+05:30',
  '1970-01-01 00:00:00+00',
  '0044-03-15 10:00:00+00 BC',
  'infinity',
  '-infinity',
  '2024-03-10 12:00:00-04',
  '2023-12-31 23:59:59.5+14',
];
const INTERVAL = [
  'P1Y2M3DT4H5M6.5S',
  'PT0S',
  'P-1D',
  'P-1DT2H',
  '1 day',
  '24 hours',
  '1 mon',
  '30 days',
  '-1 mon 2 days -03:00:00',
  '00:00:00.000001',
  '1 year -1 day',
  'P1M-30D',
  '-PT1H',
  '7 days',
  '1 day 1 second',
  'P2Y',
];
const JSONB = [
  '{"a": 1}',
  '{"a": 1.0}',
  '{"a":1.00}',
  '[1, 2]',
  '[2, 1]',
  'null',
  '"x"',
  '{"b": [1, {"c": null}], "a": "é"}',
  '1e2',
  '100',
  '{}',
  '[]',
  'true',
  '{"aa": 1, "b": 2}',
  '{"b": 2, "aa": 1}',
  '"😀"',
];
const INT4_ARR = [
  '{1,2,3}',
  '{}',
  '{1,NULL}',
  '{{1,2},{3,4}}',
  '[0:1]={1,2}',
  '{2147483647,-2147483648}',
  '{NULL}',
  '{1}',
  '{3,2,1}',
  '{7}',
  '{1,2}',
];
const INT8_ARR = ['{9223372036854775807,1}', '{}', '{1,NULL,3}', '{9007199254740993}', '{7,-7}', '{1}', '{{1},{2}}'];
const TEXT_ARR = [
  '{a,"","b c","NULL",NULL,"x\\"y","a\\\\b","{}",","}',
  '{}',
  '{"😀",é}',
  '{abc}',
  '{"a,b",c}',
  '{null}',
  '{a,b}',
  '{"abc  ",ABC}',
  '{{a,b},{c,d}}',
  '{"\\\\"}',
  '{" x "}',
];
const NUMERIC_ARR = [
  '{1.50,NaN,-0.0}',
  '{}',
  '{1,2}',
  '{1.0,NULL}',
  '{123456789012345678901234567890}',
  '{Infinity,-Infinity}',
];
const FLOAT8_ARR = ['{NaN,-0,Infinity}', '{0.1,1e+300}', '{}', '{1,2,NULL}', '{-Infinity}', '{0}'];
const BOOL_ARR = ['{t,f,NULL}', '{t}', '{}', '{f,f}'];
const DATE_ARR = ['{2024-01-31,infinity}', '{}', '{"0044-03-15 BC"}', '{2024-02-29,NULL}'];
const TIMESTAMPTZ_ARR = ['{"2024-01-01 00:00:00+00"}', '{}', '{"2024-01-02 03:04:05.120001+02",infinity}', '{NULL}'];

/** Input literals (what a user would type), per type. Records are rendered to text output from these by Postgres. */
export const POOLS: Readonly<Record<Ty, readonly string[]>> = {
  int2: INT2,
  int4: INT4,
  int8: INT8,
  numeric: NUMERIC,
  float4: FLOAT4,
  float8: FLOAT8,
  text: TEXT,
  varchar: TEXT,
  bpchar: ['abc', '', 'ab c', 'abcde', 'ABC', '😀', 'a_c'],
  name: ['abc', '', 'ABC', 'é', 'x'],
  bool: BOOL,
  uuid: UUID,
  date: DATE,
  time: TIME,
  timestamp: TIMESTAMP,
  timestamptz: TIMESTAMPTZ,
  interval: INTERVAL,
  jsonb: JSONB,
  'int4[]': INT4_ARR,
  'int8[]': INT8_ARR,
  'text[]': TEXT_ARR,
  'numeric[]': NUMERIC_ARR,
  'float8[]': FLOAT8_ARR,
  'bool[]': BOOL_ARR,
  'date[]': DATE_ARR,
  'timestamptz[]': TIMESTAMPTZ_ARR,
};

/** LIKE/ILIKE patterns: wildcards, default and custom escapes, non-BMP, and one ending in the escape. */
export const LIKE_PATTERNS: readonly (readonly [pattern: string, escape: string | undefined])[] = [
  ['a%', undefined],
  ['%c', undefined],
  ['a_c', undefined],
  ['a\\_c', undefined],
  ['a\\%c', undefined],
  ['%😀%', undefined],
  ['', undefined],
  ['%', undefined],
  ['_', undefined],
  ['abc', undefined],
  ['A%', undefined],
  ['abc%', undefined],
  ['a#%c', '#'],
  ['a#_c', '#'],
  ['a\\b', ''],
  ['%\\\\%', undefined],
  ['ab\\', undefined],
  ['ab#', '#'],
  ['__', undefined],
  ['%é%', undefined],
  ['É%', undefined],
  ['a%%c', undefined],
  ['%"%', undefined],
  ['a\\b', undefined],
];

export const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata', '+05:30', '-08'];

export const ELEMENT: Partial<Record<Ty, Ty>> = {
  'int4[]': 'int4',
  'int8[]': 'int8',
  'text[]': 'text',
  'numeric[]': 'numeric',
  'float8[]': 'float8',
  'bool[]': 'bool',
  'date[]': 'date',
  'timestamptz[]': 'timestamptz',
};

export const NUM_TYS: readonly Ty[] = ['int2', 'int4', 'int8', 'numeric', 'float4', 'float8'];
export const INT_TYS: readonly Ty[] = ['int2', 'int4', 'int8'];
export const TEXT_TYS: readonly Ty[] = ['text', 'varchar', 'bpchar', 'name'];
export const DATETIME_TYS: readonly Ty[] = ['date', 'timestamp', 'timestamptz'];
export const ARRAY_TYS: readonly Ty[] = Object.keys(ELEMENT) as Ty[];
