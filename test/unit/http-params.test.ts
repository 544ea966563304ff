// Shape request parameter parsing and validation (shape-protocol.md §2.1, §10.1).
import { describe, expect, it } from 'vitest';
import { MAX_WHERE_BYTES, parseColumns, parseShapeDelete, parseShapeGet } from '../../src/http/params.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

function errorsOf(s: string): Record<string, string[]> {
  const r = parseShapeGet(q(s));
  if (r.ok) throw new Error(`expected errors for ${s}`);
  return r.errors;
}

function requestOf(s: string) {
  const r = parseShapeGet(q(s));
  if (!r.ok) throw new Error(`unexpected errors for ${s}: ${JSON.stringify(r.errors)}`);
  return r.request;
}

describe('parseColumns', () => {
  it.each([
    ['id,title', ['id', 'title']],
    ['"id","title"', ['id', 'title']],
    ['ID, Title ', ['id', 'title']],
    ['"Id","a,b"', ['Id', 'a,b']],
    ['"say ""hi"""', ['say "hi"']],
    ['id,id', ['id']],
    ['"id" , "x"', ['id', 'x']],
  ])('%s', (text, expected) => {
    expect(parseColumns(text)).toEqual({ columns: expected });
  });

  it.each(['', 'id,', ',id', 'id,,x', '""', '"id', '"id"x', 'a"b'])('rejects %j', (text) => {
    expect(parseColumns(text)).toHaveProperty('error');
  });
});

describe('parseShapeGet', () => {
  it('parses the initial request the client sends', () => {
    const r = requestOf('log=full&offset=-1&table=items');
    expect(r.definition).toEqual({ schema: 'public', table: 'items', replica: 'default', log: 'full' });
    expect(r.offset).toEqual({ tx: -1n, op: 0 });
    expect(r.handle).toBeUndefined();
    expect(r.live).toBe(false);
  });

  it('folds and splits table names', () => {
    expect(requestOf('table=Foo.Bar&offset=-1').definition).toMatchObject({ schema: 'foo', table: 'bar' });
    expect(requestOf('table="Foo"."Bar"&offset=-1').definition).toMatchObject({ schema: 'Foo', table: 'Bar' });
    expect(requestOf('table=%22foo.woah%22.bar&offset=-1').definition).toMatchObject({
      schema: 'foo.woah',
      table: 'bar',
    });
  });

  it('parses live requests with an empty cursor', () => {
    const r = requestOf('cursor=&handle=H1&live=true&log=full&offset=0_0&table=items');
    expect(r).toMatchObject({ handle: 'H1', live: true, cursor: '', offsetText: '0_0' });
    expect(r.offset).toEqual({ tx: 0n, op: 0 });
  });

  it('live is true for any value but the literal false', () => {
    expect(requestOf('table=t&offset=0_0&handle=h&live=1').live).toBe(true);
    expect(requestOf('table=t&offset=0_0&handle=h&live=').live).toBe(true);
    expect(requestOf('table=t&offset=0_0&handle=h&live=false').live).toBe(false);
  });

  it('ignores unknown parameters and the handle when offset is -1 or now', () => {
    const r = requestOf('table=t&offset=-1&handle=H&cache-buster=x&expired_handle=H0&foo=bar');
    expect(r.handle).toBeUndefined();
    expect(requestOf('table=t&offset=now&handle=H').offset).toBe('now');
  });

  it('collects params[n] and JSON params', () => {
    expect(requestOf('table=t&offset=-1&where=a=$1 and b=$2&params[1]=x&params[2]=y').definition).toMatchObject({
      where: 'a=$1 and b=$2',
      params: { '1': 'x', '2': 'y' },
    });
    expect(requestOf('table=t&offset=-1&params={"1":"z"}').definition?.params).toEqual({ '1': 'z' });
    expect(errorsOf('table=t&offset=-1&params[x]=1')).toHaveProperty('params');
    expect(errorsOf('table=t&offset=-1&params=[1]')).toHaveProperty('params');
  });

  it('parses columns, replica and log', () => {
    const r = requestOf('table=t&offset=-1&columns=%22id%22,%22Title%22&replica=full&log=changes_only');
    expect(r.definition).toMatchObject({ columns: ['id', 'Title'], replica: 'full', log: 'changes_only' });
  });

  it.each<[string, string, string]>([
    ['offset=-1', 'table', "can't be blank"],
    ['table=&offset=-1', 'table', "can't be blank"],
    ['table=""&offset=-1', 'table', 'zero-length'],
    ['table=a.b.c&offset=-1', 'table', 'too many'],
    ['table=t', 'offset', "can't be blank"],
    ['table=t&offset=10', 'offset', 'has invalid format'],
    ['table=t&offset=1_2_3', 'offset', 'has invalid format'],
    ['table=t&offset=1_2%20', 'offset', 'has invalid format'],
    ['table=t&offset=10_32.1', 'offset', 'has invalid format'],
    ['table=t&offset=abc', 'offset', 'has invalid format'],
    ['table=t&offset=0_0', 'handle', "can't be blank when offset != -1"],
    ['table=t&offset=-1&live=true', 'live', "can't be true when offset == -1"],
    ['table=t&offset=now&live=true', 'live', "can't be true when offset is 'now'"],
    ['table=t&offset=0_0&handle=h&live_sse=true', 'live_sse', "can't be true unless live is also true"],
    ['table=t&offset=0_0&handle=h&experimental_live_sse=true', 'live_sse', "can't be true unless live is also true"],
    ['table=t&offset=-1&replica=partial', 'replica', 'invalid value'],
    ['table=t&offset=-1&log=some', 'log', 'invalid value'],
    ['table=t&offset=-1&columns=id,', 'columns', 'empty column name'],
  ])('%s → 400 on %s', (query, field, message) => {
    const errors = errorsOf(query);
    expect(errors[field]?.join(' ')).toContain(message);
  });

  it('subset__* parameters are left to the subset parser', () => {
    expect(requestOf('table=t&offset=-1&subset__limit=1&subset__where=x').offset).toEqual({ tx: -1n, op: 0 });
  });

  it('live_sse=false does not trip validation; live_sse wins over the experimental alias', () => {
    const r = requestOf('table=t&offset=0_0&handle=h&live=true&live_sse=false&experimental_live_sse=true');
    expect(r.live).toBe(true);
    expect(r.sse).toBe(false);
  });

  it('live=true with live_sse=true (or only the experimental alias) asks for an event stream', () => {
    expect(requestOf('table=t&offset=0_0&handle=h&live=true&live_sse=true').sse).toBe(true);
    expect(requestOf('table=t&offset=0_0&handle=h&live=true&experimental_live_sse=true').sse).toBe(true);
    expect(requestOf('table=t&offset=0_0&handle=h&live=true').sse).toBe(false);
  });

  it('reports several fields at once', () => {
    expect(Object.keys(errorsOf('offset=x&replica=y')).sort()).toEqual(['offset', 'replica', 'table']);
  });

  it('refuses where clauses over 64 KiB, naming where', () => {
    const big = 'a = 1 or '.repeat(Math.ceil(MAX_WHERE_BYTES / 9)) + 'true';
    const errors = errorsOf(`table=t&offset=-1&where=${encodeURIComponent(big)}`);
    expect(errors['where']?.[0]).toMatch(/too large/);
    expect(
      requestOf(`table=t&offset=-1&where=${encodeURIComponent('x'.repeat(MAX_WHERE_BYTES))}`).definition?.where,
    ).toHaveLength(MAX_WHERE_BYTES);
  });

  it('a blank where is no filter', () => {
    expect(requestOf('table=t&offset=-1&where=%20%20').definition?.where).toBeUndefined();
  });

  it('parses offsets', () => {
    expect(requestOf('table=t&offset=0_inf&handle=h').offset).toEqual({ tx: 0n, op: Infinity });
    expect(requestOf('table=t&offset=123456789012_4&handle=h').offset).toEqual({ tx: 123456789012n, op: 4 });
  });
});

describe('parseShapeDelete', () => {
  it('by definition, by handle, or both', () => {
    const a = parseShapeDelete(q('table=items'));
    expect(a.ok && a.request.definition?.table).toBe('items');
    const b = parseShapeDelete(q('handle=H'));
    expect(b.ok && b.request.handle).toBe('H');
    expect(b.ok && b.request.definition).toBeUndefined();
  });

  it('needs a table or a handle', () => {
    const r = parseShapeDelete(q(''));
    expect(!r.ok && r.errors['handle']).toEqual(["can't be blank when shape definition is missing"]);
  });
});
