// Array text form, pinned against Postgres 15 (array_in / array_out via text[]), and the array operators.
import { describe, expect, it } from 'vitest';
import {
  arrayAppend,
  arrayCodec,
  arrayConcat,
  arrayConstruct,
  arrayConstructNested,
  arrayContains,
  arrayEquals,
  arrayKey,
  arrayLength,
  arrayLower,
  arrayNdims,
  arrayOverlaps,
  arrayPrepend,
  arraySlice,
  arraySubscript,
  arrayUpper,
  cardinality,
  compareArrays,
  formatArray,
  parseArray,
} from '../../src/values/array.js';
import { textCodec } from '../../src/values/text.js';
import { boolCodec } from '../../src/values/bool.js';
import type { ArrayValue, Value } from '../../src/values/types.js';
import { ErrorCode, ValueError } from '../../src/errors/index.js';
import type { Codec } from '../../src/values/codec.js';

type Expected =
  { dims: string | null; out: string; elems: (string | null)[] | null } | { error: string; detail?: string };

/** [input, what Postgres 15 gives for input::text[]] — array_dims, ::text output, unnest() elements, or the error. */
const PG_TEXT_ARRAYS: [string, Expected][] = [
  ['{}', { dims: null, out: '{}', elems: null }],
  ['{ }', { dims: null, out: '{}', elems: null }],
  ['  {}  ', { dims: null, out: '{}', elems: null }],
  ['{a,b,c}', { dims: '[1:3]', out: '{a,b,c}', elems: ['a', 'b', 'c'] }],
  ['{ a , b , c }', { dims: '[1:3]', out: '{a,b,c}', elems: ['a', 'b', 'c'] }],
  ['{"a b", c d ,"e"}', { dims: '[1:3]', out: '{"a b","c d",e}', elems: ['a b', 'c d', 'e'] }],
  [
    '{a\\,b,c\\"d,"e\\\\f","g\\"h"}',
    { dims: '[1:4]', out: '{"a,b","c\\"d","e\\\\f","g\\"h"}', elems: ['a,b', 'c"d', 'e\\f', 'g"h'] },
  ],
  [
    '{NULL,null,"NULL",NuLl, NULL ,N\\ULL,"",x}',
    {
      dims: '[1:8]',
      out: '{NULL,NULL,"NULL",NULL,NULL,"NULL","",x}',
      elems: [null, null, 'NULL', null, null, 'NULL', '', 'x'],
    },
  ],
  ['{{1,2},{3,4}}', { dims: '[1:2][1:2]', out: '{{1,2},{3,4}}', elems: ['1', '2', '3', '4'] }],
  ['{{"a","b"},{c,d}}', { dims: '[1:2][1:2]', out: '{{a,b},{c,d}}', elems: ['a', 'b', 'c', 'd'] }],
  ['{ { 1 , 2 } , { 3 , 4 } }', { dims: '[1:2][1:2]', out: '{{1,2},{3,4}}', elems: ['1', '2', '3', '4'] }],
  ['[0:1]={x,y}', { dims: '[0:1]', out: '[0:1]={x,y}', elems: ['x', 'y'] }],
  ['[0:1][2:3]={{a,b},{c,d}}', { dims: '[0:1][2:3]', out: '[0:1][2:3]={{a,b},{c,d}}', elems: ['a', 'b', 'c', 'd'] }],
  [
    '{"{}",",","\\\\","\\"",a b, " sp "}',
    { dims: '[1:6]', out: '{"{}",",","\\\\","\\"","a b"," sp "}', elems: ['{}', ',', '\\', '"', 'a b', ' sp '] },
  ],
  ['{ab\\ ,\\ cd}', { dims: '[1:2]', out: '{"ab "," cd"}', elems: ['ab ', ' cd'] }],
  ['{a\\\tb}', { dims: '[1:1]', out: '{"a\tb"}', elems: ['a\tb'] }],
  ['{😀,é,"😀 x"}', { dims: '[1:3]', out: '{😀,é,"😀 x"}', elems: ['😀', 'é', '😀 x'] }],
  ['{a,"b"c}', { error: 'malformed array literal: "{a,"b"c}"', detail: 'Unexpected array element.' }],
  ['{a"b"}', { error: 'malformed array literal: "{a"b"}"', detail: 'Unexpected array element.' }],
  ['{a,,b}', { error: 'malformed array literal: "{a,,b}"', detail: 'Unexpected "," character.' }],
  ['{,a}', { error: 'malformed array literal: "{,a}"', detail: 'Unexpected "," character.' }],
  ['{a,}', { error: 'malformed array literal: "{a,}"', detail: 'Unexpected "}" character.' }],
  ['{"a}', { error: 'malformed array literal: "{"a}"', detail: 'Unexpected end of input.' }],
  ['{a', { error: 'malformed array literal: "{a"', detail: 'Unexpected end of input.' }],
  [
    'a{b}',
    { error: 'malformed array literal: "a{b}"', detail: 'Array value must start with "{" or dimension information.' },
  ],
  ['{a}x', { error: 'malformed array literal: "{a}x"', detail: 'Junk after closing right brace.' }],
  ['{a} x', { error: 'malformed array literal: "{a} x"', detail: 'Junk after closing right brace.' }],
  [
    '{{1,2},{3}}',
    {
      error: 'malformed array literal: "{{1,2},{3}}"',
      detail: 'Multidimensional arrays must have sub-arrays with matching dimensions.',
    },
  ],
  [
    '{{1},{2,3}}',
    {
      error: 'malformed array literal: "{{1},{2,3}}"',
      detail: 'Multidimensional arrays must have sub-arrays with matching dimensions.',
    },
  ],
  ['{{1,2},3}', { error: 'malformed array literal: "{{1,2},3}"', detail: 'Unexpected array element.' }],
  ['{1,{2}}', { error: 'malformed array literal: "{1,{2}}"', detail: 'Unexpected "{" character.' }],
  ['{{{1}},{2}}', { dims: null, out: '{}', elems: null }],
  ['{{{1}},{{2}}}', { dims: '[1:2][1:1][1:1]', out: '{{{1}},{{2}}}', elems: ['1', '2'] }],
  ['{{}}', { error: 'malformed array literal: "{{}}"', detail: 'Unexpected "}" character.' }],
  ['{{},{}}', { error: 'malformed array literal: "{{},{}}"', detail: 'Unexpected "}" character.' }],
  [
    '[1:2]={a}',
    {
      error: 'malformed array literal: "[1:2]={a}"',
      detail: 'Specified array dimensions do not match array contents.',
    },
  ],
  [
    '[1:1]={}',
    { error: 'malformed array literal: "[1:1]={}"', detail: 'Specified array dimensions do not match array contents.' },
  ],
  ['[2:1]={a}', { error: 'upper bound cannot be less than lower bound' }],
  ['[1:2]{a,b}', { error: 'malformed array literal: "[1:2]{a,b}"', detail: 'Missing "=" after array dimensions.' }],
  ['[1:2]=', { error: 'malformed array literal: "[1:2]="', detail: 'Array contents must start with "{".' }],
  [
    '[a]={x}',
    {
      error: 'malformed array literal: "[a]={x}"',
      detail: '"[" must introduce explicitly-specified array dimensions.',
    },
  ],
  ['[1:]={x}', { error: 'malformed array literal: "[1:]={x}"', detail: 'Missing array dimension value.' }],
  ['[1:2', { error: 'malformed array literal: "[1:2"', detail: 'Missing "]" after array dimensions.' }],
  [
    '={a}',
    { error: 'malformed array literal: "={a}"', detail: 'Array value must start with "{" or dimension information.' },
  ],
  ['{{{{{{{1}}}}}}}', { error: 'number of array dimensions (7) exceeds the maximum allowed (6)' }],
  ['{{{{{{1}}}}}}', { dims: '[1:1][1:1][1:1][1:1][1:1][1:1]', out: '{{{{{{1}}}}}}', elems: ['1'] }],
  ['{"a"  ,  "b"  }', { dims: '[1:2]', out: '{a,b}', elems: ['a', 'b'] }],
  ['{  "a"  b}', { error: 'malformed array literal: "{  "a"  b}"', detail: 'Unexpected array element.' }],
  ['{"a\\}', { error: 'malformed array literal: "{"a\\}"', detail: 'Unexpected end of input.' }],
  ['{\\}', { error: 'malformed array literal: "{\\}"', detail: 'Unexpected end of input.' }],
  ['{a\\\\}', { dims: '[1:1]', out: '{"a\\\\"}', elems: ['a\\'] }],
  ['{"\\a\\b"}', { dims: '[1:1]', out: '{ab}', elems: ['ab'] }],
  ['{{a}}x', { error: 'malformed array literal: "{{a}}x"', detail: 'Junk after closing right brace.' }],
  ['{{a},{b}}', { dims: '[1:2][1:1]', out: '{{a},{b}}', elems: ['a', 'b'] }],
  ['{ {a} , {b} }', { dims: '[1:2][1:1]', out: '{{a},{b}}', elems: ['a', 'b'] }],
  ['{a b\tc}', { dims: '[1:1]', out: '{"a b\tc"}', elems: ['a b\tc'] }],
  ['{"",""}', { dims: '[1:2]', out: '{"",""}', elems: ['', ''] }],
  ['{\\,}', { dims: '[1:1]', out: '{","}', elems: [','] }],
  ['[-2:-1]={a,b}', { dims: '[-2:-1]', out: '[-2:-1]={a,b}', elems: ['a', 'b'] }],
  ['[1:1][1:1]={{a}}', { dims: '[1:1][1:1]', out: '{{a}}', elems: ['a'] }],
  [
    '[1:1]={{a}}',
    {
      error: 'malformed array literal: "[1:1]={{a}}"',
      detail: 'Specified array dimensions do not match array contents.',
    },
  ],
  ['{NULL}', { dims: '[1:1]', out: '{NULL}', elems: [null] }],
  ['{"NULL"}', { dims: '[1:1]', out: '{"NULL"}', elems: ['NULL'] }],
  ['[1:1]={NULL}', { dims: '[1:1]', out: '{NULL}', elems: [null] }],
  ['{ a\\ b }', { dims: '[1:1]', out: '{"a b"}', elems: ['a b'] }],
  ['{{a,b},{c,d}} ', { dims: '[1:2][1:2]', out: '{{a,b},{c,d}}', elems: ['a', 'b', 'c', 'd'] }],
  [' {{a,b},{c,d}}', { dims: '[1:2][1:2]', out: '{{a,b},{c,d}}', elems: ['a', 'b', 'c', 'd'] }],
  ['x', { error: 'malformed array literal: "x"', detail: 'Array value must start with "{" or dimension information.' }],
  [' {a', { error: 'malformed array literal: "{a"', detail: 'Unexpected end of input.' }],
  ['[1:2]={a', { error: 'malformed array literal: "{a"', detail: 'Unexpected end of input.' }],
  ['[1:2]={a,b', { error: 'malformed array literal: "{a,b"', detail: 'Unexpected end of input.' }],
  ['  [0:0]={a}x', { error: 'malformed array literal: "{a}x"', detail: 'Junk after closing right brace.' }],
  [
    ' {{1},{2,3}}',
    {
      error: 'malformed array literal: "{{1},{2,3}}"',
      detail: 'Multidimensional arrays must have sub-arrays with matching dimensions.',
    },
  ],
  [' {a,,b}', { error: 'malformed array literal: "{a,,b}"', detail: 'Unexpected "," character.' }],
  ['{"a"x}', { error: 'malformed array literal: "{"a"x}"', detail: 'Unexpected array element.' }],
  ['{{a},b}', { error: 'malformed array literal: "{{a},b}"', detail: 'Unexpected array element.' }],
  ['{{a}{b}}', { error: 'malformed array literal: "{{a}{b}}"', detail: 'Unexpected "{" character.' }],
  ['{a}{b}', { error: 'malformed array literal: "{a}{b}"', detail: 'Junk after closing right brace.' }],
  ['{{a},{b}}}', { error: 'malformed array literal: "{{a},{b}}}"', detail: 'Junk after closing right brace.' }],
  ['{a}}', { error: 'malformed array literal: "{a}}"', detail: 'Junk after closing right brace.' }],
  [
    '[1:2]={{1},{2}}',
    {
      error: 'malformed array literal: "[1:2]={{1},{2}}"',
      detail: 'Specified array dimensions do not match array contents.',
    },
  ],
  ['[1:1][1:2]={{a,b}}', { dims: '[1:1][1:2]', out: '{{a,b}}', elems: ['a', 'b'] }],
  ['[1:1] [1:2] = {{a,b}}', { dims: '[1:1][1:2]', out: '{{a,b}}', elems: ['a', 'b'] }],
  ['[4294967297:4294967297]={a}', { dims: '[1:1]', out: '{a}', elems: ['a'] }],
  [
    '[99999999999999999999:1]={a}',
    {
      error: 'malformed array literal: "[99999999999999999999:1]={a}"',
      detail: 'Specified array dimensions do not match array contents.',
    },
  ],
  [
    '[1-2:3]={a,b}',
    {
      error: 'malformed array literal: "[1-2:3]={a,b}"',
      detail: 'Specified array dimensions do not match array contents.',
    },
  ],
  [
    '[+:1]={a}',
    {
      error: 'malformed array literal: "[+:1]={a}"',
      detail: 'Specified array dimensions do not match array contents.',
    },
  ],
  ['[0:-1]={}', { error: 'upper bound cannot be less than lower bound' }],
  ['{"a",{b}}', { error: 'malformed array literal: "{"a",{b}}"', detail: 'Unexpected "{" character.' }],
  ['{{a}, b}', { error: 'malformed array literal: "{{a}, b}"', detail: 'Unexpected array element.' }],
  ['{"a\\"b","c\\\\d"}', { dims: '[1:2]', out: '{"a\\"b","c\\\\d"}', elems: ['a"b', 'c\\d'] }],
  ['{"  lead",trail  ,  both  }', { dims: '[1:3]', out: '{"  lead",trail,both}', elems: ['  lead', 'trail', 'both'] }],
  ['{"x"  }', { dims: '[1:1]', out: '{x}', elems: ['x'] }],
  ['{a,"",NULL,"null",b c}', { dims: '[1:5]', out: '{a,"",NULL,"null","b c"}', elems: ['a', '', null, 'null', 'b c'] }],
  ['{{NULL,2},{3,NULL}}', { dims: '[1:2][1:2]', out: '{{NULL,2},{3,NULL}}', elems: [null, '2', '3', null] }],
  ['[3:4][-1:0]={{a,b},{c,d}}', { dims: '[3:4][-1:0]', out: '[3:4][-1:0]={{a,b},{c,d}}', elems: ['a', 'b', 'c', 'd'] }],
  ['{"\\u00e9"}', { dims: '[1:1]', out: '{u00e9}', elems: ['u00e9'] }],
  ['{é x,😀}', { dims: '[1:2]', out: '{"é x",😀}', elems: ['é x', '😀'] }],
];

const ident = (s: string): Value => s;
const fmt = (v: Value): string => v as string;

function dimsText(a: ArrayValue): string | null {
  if (a.dims.length === 0) return null;
  return a.dims.map((d, i) => `[${a.lbounds[i]}:${a.lbounds[i]! + d - 1}]`).join('');
}

function int(s: string): Value {
  if (!/^[+-]?\d+$/.test(s.trim()))
    throw new ValueError(ErrorCode.InvalidValue, `invalid input syntax for type integer: "${s}"`);
  return Number(s);
}

const arr = (text: string): ArrayValue => parseArray(text, int);
const eq = (x: Value, y: Value): boolean => x === y;

describe('parseArray / formatArray match Postgres text[]', () => {
  for (const [input, expected] of PG_TEXT_ARRAYS) {
    it(JSON.stringify(input), () => {
      if ('error' in expected) {
        expect(() => parseArray(input, ident)).toThrow(new ValueError(ErrorCode.InvalidValue, expected.error));
        return;
      }
      const a = parseArray(input, ident);
      expect(dimsText(a)).toBe(expected.dims);
      expect(a.items.length === 0 ? null : a.items).toEqual(expected.elems);
      expect(formatArray(a, fmt)).toBe(expected.out);
      // array_out's text reads back as the same array
      expect(arrayEquals(parseArray(expected.out, ident), a, eq)).toBe(true);
    });
  }
});

const out = (a: ArrayValue | null): string | null => (a === null ? null : formatArray(a, (v) => String(v)));
const err = (msg: string): ValueError => new ValueError(ErrorCode.EvaluationError, msg);

describe('record fast path', () => {
  it('parses simple int arrays and reports element errors in order', () => {
    expect(arr('{1,2,3}')).toEqual({ dims: [3], lbounds: [1], items: [1, 2, 3] });
    expect(arr('{1,NULL,nuLL}').items).toEqual([1, null, null]);
    expect(() => arr('{1,x,y}')).toThrow('invalid input syntax for type integer: "x"');
    expect(() => arr('{1,,2}')).toThrow('malformed array literal: "{1,,2}"');
    expect(() => arr('{1,2,}')).toThrow('malformed array literal: "{1,2,}"');
    expect(arr('{}')).toEqual({ dims: [], lbounds: [], items: [] });
  });
  it('passes element text exactly: no trimming inside quotes', () => {
    const seen: string[] = [];
    parseArray('{ a , " b ",c\\ }', (s) => (seen.push(s), s));
    expect(seen).toEqual(['a', ' b ', 'c ']);
  });
});

describe('codec', () => {
  const c = arrayCodec(textCodec as Codec);
  it('is memoised per element codec', () => {
    expect(arrayCodec(textCodec as Codec)).toBe(c);
  });
  it('bool[] prints t/f', () => {
    const b = arrayCodec(boolCodec as Codec);
    expect(b.format(b.parse('{true,NO,null}'))).toBe('{t,f,NULL}');
  });
  it('equality needs equal lower bounds; NULLs equal each other; keys agree', () => {
    // '[0:1]={1,2}' = '{1,2}' is false; ARRAY[1,NULL] = ARRAY[1,NULL] is true; '{{1,2}}' = '{1,2}' is false
    expect(c.equals(c.parse('[0:1]={1,2}'), c.parse('{1,2}'))).toBe(false);
    expect(c.equals(c.parse('{1,NULL}'), c.parse('{1,NULL}'))).toBe(true);
    expect(c.equals(c.parse('{{1,2}}'), c.parse('{1,2}'))).toBe(false);
    expect(c.key(c.parse('{1,NULL}'))).toBe(c.key(c.parse('{ 1 , null }')));
    expect(c.key(c.parse('{1,NULL}'))).not.toBe(c.key(c.parse('{1,"NULL"}')));
    expect(c.key(c.parse('[0:1]={1,2}'))).not.toBe(c.key(c.parse('{1,2}')));
  });
  it('orders as array_cmp: elements, NULL last, then length', () => {
    const cmp = (a: string, b: string): number =>
      compareArrays(arr(a), arr(b), (x, y) => (x as number) - (y as number));
    expect(cmp('{1,2}', '{1,3}')).toBe(-1);
    expect(cmp('{1,NULL}', '{1,3}')).toBe(1);
    expect(cmp('{1}', '{1,0}')).toBe(-1);
    expect(cmp('{1,2}', '{{1,2}}')).toBe(-1);
    expect(cmp('{1,2}', '[0:1]={1,2}')).toBe(1);
    expect(arrayKey(arr('{}'), String)).toBe(arrayKey(arr('{ }'), String));
  });
});

describe('containment and overlap (pinned against Postgres)', () => {
  const contains = (a: string, b: string): boolean => arrayContains(arr(a), arr(b), eq);
  it('@>', () => {
    expect(contains('{{1,2},{3,4}}', '{4}')).toBe(true);
    expect(contains('{1,NULL}', '{NULL}')).toBe(false);
    expect(contains('{1}', '{}')).toBe(true);
    expect(contains('{}', '{}')).toBe(true);
    expect(contains('{}', '{1}')).toBe(false);
    expect(contains('{1,1}', '{1,1,1}')).toBe(true);
    expect(contains('{1,2}', '{2,3}')).toBe(false);
  });
  it('@> with a key set for large inputs gives the same answers', () => {
    const big = arrayConstruct(Array.from({ length: 100 }, (_, i) => i));
    const probe = arrayConstruct([5, 99, 7]);
    expect(arrayContains(big, probe, eq, (v) => v as number)).toBe(true);
    expect(arrayContains(big, arrayConstruct([5, 100]), eq, (v) => v as number)).toBe(false);
    expect(arrayContains(big, arrayConstruct([5, null]), eq, (v) => v as number)).toBe(false);
    expect(arrayOverlaps(big, arrayConstruct([null, 100, 42]), eq, (v) => v as number)).toBe(true);
  });
  it('&&', () => {
    expect(arrayOverlaps(arr('{1,2}'), arr('{2,3}'), eq)).toBe(true);
    expect(arrayOverlaps(arr('{}'), arr('{}'), eq)).toBe(false);
    expect(arrayOverlaps(arr('{NULL}'), arr('{NULL}'), eq)).toBe(false);
    expect(arrayOverlaps(arr('{{1},{2}}'), arr('{2}'), eq)).toBe(true);
  });
});

describe('concatenation (pinned against Postgres)', () => {
  const cat = (a: string | null, b: string | null): string | null =>
    out(arrayConcat(a === null ? null : arr(a), b === null ? null : arr(b)));
  it('joins compatible arrays keeping the outer lower bounds', () => {
    expect(cat('{1}', '[5:6]={2,3}')).toBe('{1,2,3}');
    expect(cat('[5:6]={2,3}', '{1}')).toBe('[5:7]={2,3,1}');
    expect(cat('[5:6]={2,3}', '[0:0]={1}')).toBe('[5:7]={2,3,1}');
    expect(cat('{{1,2}}', '{3,4}')).toBe('{{1,2},{3,4}}');
    expect(cat('{3,4}', '{{1,2}}')).toBe('{{3,4},{1,2}}');
    expect(cat('{{1,2},{3,4}}', '{{5,6}}')).toBe('{{1,2},{3,4},{5,6}}');
    expect(cat('{5,6}', '{{1,2},{3,4}}')).toBe('{{5,6},{1,2},{3,4}}');
  });
  it('treats NULL and empty as nothing', () => {
    expect(cat(null, '[2:3]={1,2}')).toBe('[2:3]={1,2}');
    expect(cat('{}', '[2:3]={1,2}')).toBe('[2:3]={1,2}');
    expect(cat('[2:3]={1,2}', '{}')).toBe('[2:3]={1,2}');
    expect(cat('{1,2}', null)).toBe('{1,2}');
    expect(cat(null, null)).toBe(null);
  });
  it('rejects incompatible shapes', () => {
    const bad = err('cannot concatenate incompatible arrays');
    expect(() => cat('{3,4,5}', '{{1,2}}')).toThrow(bad);
    expect(() => cat('{{3}}', '{{1,2}}')).toThrow(bad);
    expect(() => cat('{{{3}}}', '{1}')).toThrow(bad);
    expect(() => cat('[2:2][3:4]={{1,2}}', '[7:7][0:1]={{3,4}}')).toThrow(bad);
    expect(() => cat('[7:7][0:1]={{3,4}}', '[2:3]={1,2}')).toThrow(bad);
    expect(() => cat('[2147483645:2147483646]={1,2}', '{3}')).toThrow(
      err('array lower bound is too large: 2147483645'),
    );
  });
  it('append and prepend', () => {
    expect(out(arrayAppend(arr('[5:6]={1,2}'), 3))).toBe('[5:7]={1,2,3}');
    expect(out(arrayPrepend(0, arr('[5:6]={1,2}')))).toBe('[5:7]={0,1,2}');
    expect(out(arrayPrepend(0, arr('{1,2}')))).toBe('{0,1,2}');
    expect(out(arrayAppend(null, 3))).toBe('{3}');
    expect(out(arrayPrepend(3, null))).toBe('{3}');
    expect(out(arrayAppend(arr('{}'), null))).toBe('{NULL}');
    expect(out(arrayAppend(arr('{1,2}'), null))).toBe('{1,2,NULL}');
    expect(() => arrayAppend(arr('{{1}}'), 3)).toThrow('argument must be empty or one-dimensional array');
    expect(() => arrayPrepend(3, arr('{{1}}'))).toThrow('argument must be empty or one-dimensional array');
    expect(() => arrayPrepend(1, arr('[-2147483648:-2147483648]={1}'))).toThrow('integer out of range');
    expect(() => arrayAppend(arr('[2147483645:2147483646]={1,2}'), 3)).toThrow(
      'array lower bound is too large: 2147483645',
    );
  });
});

describe('subscripts, slices and sizes (pinned against Postgres)', () => {
  it('subscripts', () => {
    expect(arraySubscript(arr('{{1,2},{3,4}}'), [1])).toBe(null);
    expect(arraySubscript(arr('{{1,2},{3,4}}'), [2, 1])).toBe(3);
    expect(arraySubscript(arr('[0:1]={1,2}'), [0])).toBe(1);
    expect(arraySubscript(arr('[0:1]={1,2}'), [2])).toBe(null);
    expect(arraySubscript(arr('{1,2}'), [1, 1])).toBe(null);
    expect(arraySubscript(arr('{}'), [1])).toBe(null);
    expect(arraySubscript(arr('{1,NULL}'), [2])).toBe(null);
  });
  it('slices', () => {
    const s = (a: string, lo: (number | null)[], hi: (number | null)[]): string | null =>
      out(arraySlice(arr(a), lo, hi));
    expect(s('{1,2,3,4}', [2], [3])).toBe('{2,3}');
    expect(s('{1,2,3,4}', [null], [2])).toBe('{1,2}');
    expect(s('{1,2,3,4}', [3], [null])).toBe('{3,4}');
    expect(s('{1,2,3,4}', [0], [10])).toBe('{1,2,3,4}');
    expect(s('{1,2,3,4}', [3], [2])).toBe('{}');
    expect(s('[5:8]={1,2,3,4}', [6], [7])).toBe('{2,3}');
    expect(s('{{1,2},{3,4}}', [2], [2])).toBe('{{3,4}}');
    expect(s('{{1,2},{3,4}}', [1, 2], [2, 2])).toBe('{{2},{4}}');
    // a[2][1:1] is a[1:2][1:1]
    expect(s('{{1,2},{3,4}}', [1, 1], [2, 1])).toBe('{{1},{3}}');
    expect(s('{1,2}', [1, 1], [1, 1])).toBe('{}');
    expect(s('{}', [1], [2])).toBe('{}');
  });
  it('sizes', () => {
    expect(arrayNdims(arr('{}'))).toBe(null);
    expect(arrayNdims(arr('{{1}}'))).toBe(2);
    expect(arrayLength(arr('{{1,2,3}}'), 2)).toBe(3);
    expect(arrayLength(arr('{{1,2,3}}'), 3)).toBe(null);
    expect(arrayLength(arr('{}'), 1)).toBe(null);
    expect(arrayLength(arr('{1}'), 0)).toBe(null);
    expect(cardinality(arr('{}'))).toBe(0);
    expect(cardinality(arr('{{1,2},{3,4}}'))).toBe(4);
    expect(arrayLower(arr('[3:4]={1,2}'), 1)).toBe(3);
    expect(arrayUpper(arr('[3:4]={1,2}'), 1)).toBe(4);
  });
  it('ARRAY[...] constructors', () => {
    expect(out(arrayConstruct([1, null]))).toBe('{1,NULL}');
    expect(out(arrayConstructNested([arr('{1,2}'), arr('{3,4}')]))).toBe('{{1,2},{3,4}}');
    expect(out(arrayConstructNested([arr('[0:1]={1,2}'), arr('[0:1]={3,4}')]))).toBe('[1:2][0:1]={{1,2},{3,4}}');
    expect(out(arrayConstructNested([null, arr('{}')]))).toBe('{}');
    const bad = 'multidimensional arrays must have array expressions with matching dimensions';
    expect(() => arrayConstructNested([arr('{1}'), arr('{2,3}')])).toThrow(bad);
    expect(() => arrayConstructNested([arr('{1}'), null])).toThrow(bad);
    expect(() => arrayConstructNested([arr('{1,2}'), arr('[0:1]={3,4}')])).toThrow(bad);
  });
});
