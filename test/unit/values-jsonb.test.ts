// jsonb/json input, output, key order and equality, pinned against Postgres 15.
import { describe, expect, it } from 'vitest';
import { formatJsonb, jsonbCodec, jsonbEquals, jsonbKey, parseJson, parseJsonb } from '../../src/values/jsonb.js';

/** Postgres's answer as text, or 'ERROR: ' + message, for comparison with the pinned rows. */
function run(f: () => string): string {
  try {
    return f();
  } catch (e) {
    return 'ERROR: ' + (e as Error).message;
  }
}

// Generated from Postgres 15.18 (extra_float_digits=1); each row is [inputs…, Postgres's text output or 'ERROR: message'].
const INPUT: [string, string, string][] = [
  ['01', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['-0', '0', '-0'],
  ['1E+2', '100', '1E+2'],
  ['[1.0, 2e-2, -0.0]', '[1.0, 0.02, 0.0]', '[1.0, 2e-2, -0.0]'],
  ['{"bb":1,"a":2,"a":3, "é":4, "z":5}', '{"a": 3, "z": 5, "bb": 1, "é": 4}', '{"bb":1,"a":2,"a":3, "é":4, "z":5}'],
  ['"\\u0000"', 'ERROR: unsupported Unicode escape sequence', '"\\u0000"'],
  ['"\\u00e9\\ud83d\\ude00\\/\\t\\u0001"', '"é😀/\\t\\u0001"', '"\\u00e9\\ud83d\\ude00\\/\\t\\u0001"'],
  ['"a\\ud83d"', 'ERROR: invalid input syntax for type json', '"a\\ud83d"'],
  ['"a\tb"', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  [' { } ', '{}', ' { } '],
  ['\f1', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['[1,]', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['NaN', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['1.', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['.5', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['+1', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['tru', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['"\\u001f\\u007f"', '"\\u001f"', '"\\u001f\\u007f"'],
  ['[]', '[]', '[]'],
  ['{"a":{"b":[]},"c":null,"d":true}', '{"a": {"b": []}, "c": null, "d": true}', '{"a":{"b":[]},"c":null,"d":true}'],
  ['', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['"\\x"', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['"\\uZZZZ"', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['"\\u00"', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['{"aaa":1,"b":2,"aa":3,"a":4}', '{"a": 4, "b": 2, "aa": 3, "aaa": 1}', '{"aaa":1,"b":2,"aa":3,"a":4}'],
  ['[1,"a",null,true,false,{},[]]', '[1, "a", null, true, false, {}, []]', '[1,"a",null,true,false,{},[]]'],
  ['"\\"\\\\\\b\\f\\n\\r\\t"', '"\\"\\\\\\b\\f\\n\\r\\t"', '"\\"\\\\\\b\\f\\n\\r\\t"'],
  ['12345678901234567890.123456789000', '12345678901234567890.123456789000', '12345678901234567890.123456789000'],
  ['1e-5', '0.00001', '1e-5'],
  ['{"a":1}  x', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['{"a" 1}', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['{"a":1,}', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['{1:2}', 'ERROR: invalid input syntax for type json', 'ERROR: invalid input syntax for type json'],
  ['"\\uD83D\\uDE00"', '"😀"', '"\\uD83D\\uDE00"'],
  ['"\\udc00"', 'ERROR: invalid input syntax for type json', '"\\udc00"'],
  ['  null  ', 'null', '  null  '],
  ['{"":1,"a":[{"x":1.50}]}', '{"": 1, "a": [{"x": 1.50}]}', '{"":1,"a":[{"x":1.50}]}'],
  ['{"\\u00e9":1,"e":2,"ee":3}', '{"e": 2, "ee": 3, "é": 1}', '{"\\u00e9":1,"e":2,"ee":3}'],
  [
    '[1e400]',
    '[10000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000]',
    '[1e400]',
  ],
];

// Generated from Postgres 15.18 (extra_float_digits=1); each row is [inputs…, Postgres's text output or 'ERROR: message'].
const EQUAL: [string, string, string][] = [
  ['{"a":1.0}', '{"a":1}', 'true'],
  ['[1,2]', '[2,1]', 'false'],
  ['{"a":1,"b":2}', '{"b":2,"a":1}', 'true'],
  ['{"a":1,"a":2}', '{"a":2}', 'true'],
  ['1', '1.000', 'true'],
  ['"1"', '1', 'false'],
  ['[1]', '1', 'false'],
  ['null', 'null', 'true'],
  ['{}', '[]', 'false'],
  ['{"a":[1,{"b":2.50}]}', '{"a":[1,{"b":2.5}]}', 'true'],
  ['0', '-0.0', 'true'],
  ['true', 'true', 'true'],
  ['true', 'false', 'false'],
];

describe('jsonb and json input', () => {
  it.each(INPUT)('%j', (text, jsonb, json) => {
    const got = run(() => formatJsonb(parseJsonb(text)));
    expect(got.startsWith('ERROR') ? got : got.slice(0, 200)).toBe(
      jsonb.startsWith('ERROR') ? jsonb : jsonb.slice(0, 200),
    );
    expect(run(() => parseJson(text))).toBe(json);
  });
});

describe('jsonb equality and keys', () => {
  it.each(EQUAL)('%s = %s', (a, b, expected) => {
    const x = parseJsonb(a);
    const y = parseJsonb(b);
    expect(String(jsonbEquals(x, y))).toBe(expected);
    expect(jsonbKey(x) === jsonbKey(y)).toBe(expected === 'true');
  });

  it('codec round trip', () => {
    const v = jsonbCodec.parse('{"b": [1.0, 2], "a": "x"}');
    expect(jsonbCodec.format(v)).toBe('{"a": "x", "b": [1.0, 2]}');
    expect(jsonbCodec.compare).toBeUndefined();
  });
});
