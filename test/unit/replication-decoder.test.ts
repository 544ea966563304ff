// Unit tests of the pgoutput v1 decoder, the walsender frames and LSN helpers, on hand-built buffers.
import { describe, expect, it } from 'vitest';
import { decodePgoutput, PG_EPOCH_OFFSET_US, UNCHANGED_TOAST } from '../../src/replication/pgoutput-decoder.js';
import { lsnToString, parseLsn } from '../../src/replication/lsn.js';
import { buildStatusUpdate, readKeepalive } from '../../src/replication/walsender-protocol.js';
import { ReplicationError } from '../../src/replication/errors.js';
import { Backoff } from '../../src/replication/backoff.js';

/** A tiny big-endian writer for building protocol messages. */
class Msg {
  private parts: Buffer[] = [];
  u8(v: number): this {
    this.parts.push(Buffer.from([v]));
    return this;
  }
  ch(c: string): this {
    return this.u8(c.charCodeAt(0));
  }
  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16BE(v);
    this.parts.push(b);
    return this;
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(v);
    this.parts.push(b);
    return this;
  }
  i32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v);
    this.parts.push(b);
    return this;
  }
  u64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    this.parts.push(b);
    return this;
  }
  i64(v: bigint): this {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(v);
    this.parts.push(b);
    return this;
  }
  cstr(s: string): this {
    this.parts.push(Buffer.from(s, 'utf8'), Buffer.from([0]));
    return this;
  }
  /** Tuple data: strings are 't' values, null 'n', UNCHANGED_TOAST 'u'. */
  tuple(values: (string | null | typeof UNCHANGED_TOAST)[]): this {
    this.i16(values.length);
    for (const v of values) {
      if (v === null) this.ch('n');
      else if (v === UNCHANGED_TOAST) this.ch('u');
      else {
        const b = Buffer.from(v, 'utf8');
        this.ch('t').i32(b.length);
        this.parts.push(b);
      }
    }
    return this;
  }
  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

// 2024-01-02 03:04:05.123456 UTC in µs since 2000-01-01.
const TS_UNIX_US = 1_704_164_645_123_456n;
const TS_PG_US = TS_UNIX_US - PG_EPOCH_OFFSET_US;

describe('lsn', () => {
  it('parses and prints Postgres LSN text', () => {
    expect(parseLsn('0/16B3748')).toBe(0x16b3748n);
    expect(parseLsn('16/B374D848')).toBe((0x16n << 32n) | 0xb374d848n);
    expect(parseLsn('0/0')).toBe(0n);
    expect(lsnToString(0x16b3748n)).toBe('0/16B3748');
    expect(lsnToString((0x16n << 32n) | 0xb374d848n)).toBe('16/B374D848');
    expect(lsnToString(0xffffffffffffffffn)).toBe('FFFFFFFF/FFFFFFFF');
    expect(parseLsn('ffffffff/ffffffff')).toBe(0xffffffffffffffffn);
  });
  it('rejects malformed LSNs', () => {
    for (const bad of ['', '0', '0/', '/1', '1/2/3', '123456789/0', 'x/1', ' 0/1']) {
      expect(() => parseLsn(bad), bad).toThrow(ReplicationError);
    }
  });
});

describe('decodePgoutput', () => {
  it('Begin', () => {
    const buf = new Msg().ch('B').u64(0x16b3748n).i64(TS_PG_US).u32(4_000_000_000).build();
    expect(decodePgoutput(buf)).toEqual({
      tag: 'begin',
      finalLsn: 0x16b3748n,
      commitTime: TS_UNIX_US,
      xid: 4_000_000_000,
    });
  });
  it('Commit', () => {
    const buf = new Msg().ch('C').u8(0).u64(0x100n).u64(0x130n).i64(TS_PG_US).build();
    expect(decodePgoutput(buf)).toEqual({
      tag: 'commit',
      flags: 0,
      commitLsn: 0x100n,
      endLsn: 0x130n,
      commitTime: TS_UNIX_US,
    });
  });
  it('Origin', () => {
    const buf = new Msg().ch('O').u64(0x55n).cstr('node_a').build();
    expect(decodePgoutput(buf)).toEqual({ tag: 'origin', originLsn: 0x55n, name: 'node_a' });
  });
  it('Relation with key flags, typmods and a UTF-8 name', () => {
    const buf = new Msg()
      .ch('R')
      .u32(16384)
      .cstr('public')
      .cstr('bücher')
      .ch('f')
      .i16(3)
      .u8(1)
      .cstr('id')
      .u32(20)
      .i32(-1)
      .u8(0)
      .cstr('title')
      .u32(1043)
      .i32(104)
      .u8(0)
      .cstr('price')
      .u32(1700)
      .i32((10 << 16) + 2 + 4)
      .build();
    expect(decodePgoutput(buf)).toEqual({
      tag: 'relation',
      oid: 16384,
      namespace: 'public',
      name: 'bücher',
      replicaIdentity: 'f',
      columns: [
        { flags: 1, name: 'id', typeOid: 20, typmod: -1 },
        { flags: 0, name: 'title', typeOid: 1043, typmod: 104 },
        { flags: 0, name: 'price', typeOid: 1700, typmod: 655366 },
      ],
    });
  });
  it('Type', () => {
    const buf = new Msg().ch('Y').u32(70000).cstr('public').cstr('mood').build();
    expect(decodePgoutput(buf)).toEqual({ tag: 'type', oid: 70000, namespace: 'public', name: 'mood' });
  });
  it('Insert keeps text raw, nulls null, and unchanged TOAST marked', () => {
    const buf = new Msg().ch('I').u32(16384).ch('N').tuple(['1', null, '', 'héllo\n"x"', UNCHANGED_TOAST]).build();
    expect(decodePgoutput(buf)).toEqual({
      tag: 'insert',
      relationOid: 16384,
      newTuple: ['1', null, '', 'héllo\n"x"', UNCHANGED_TOAST],
    });
  });
  it('Update without, with key and with full old tuple', () => {
    const plain = new Msg().ch('U').u32(7).ch('N').tuple(['1', 'b']).build();
    expect(decodePgoutput(plain)).toEqual({
      tag: 'update',
      relationOid: 7,
      oldKind: null,
      oldTuple: null,
      newTuple: ['1', 'b'],
    });
    const key = new Msg().ch('U').u32(7).ch('K').tuple(['1', null]).ch('N').tuple(['2', 'b']).build();
    expect(decodePgoutput(key)).toMatchObject({ oldKind: 'K', oldTuple: ['1', null], newTuple: ['2', 'b'] });
    const full = new Msg().ch('U').u32(7).ch('O').tuple(['1', 'a']).ch('N').tuple(['1', UNCHANGED_TOAST]).build();
    expect(decodePgoutput(full)).toMatchObject({
      oldKind: 'O',
      oldTuple: ['1', 'a'],
      newTuple: ['1', UNCHANGED_TOAST],
    });
  });
  it('Delete with key or full old tuple', () => {
    const key = new Msg().ch('D').u32(7).ch('K').tuple(['1', null]).build();
    expect(decodePgoutput(key)).toEqual({ tag: 'delete', relationOid: 7, oldKind: 'K', oldTuple: ['1', null] });
    const full = new Msg().ch('D').u32(7).ch('O').tuple(['1', 'a']).build();
    expect(decodePgoutput(full)).toEqual({ tag: 'delete', relationOid: 7, oldKind: 'O', oldTuple: ['1', 'a'] });
  });
  it('Truncate with options', () => {
    const buf = new Msg().ch('T').i32(2).u8(3).u32(10).u32(11).build();
    expect(decodePgoutput(buf)).toEqual({
      tag: 'truncate',
      relationOids: [10, 11],
      cascade: true,
      restartIdentity: true,
    });
    const plain = new Msg().ch('T').i32(1).u8(0).u32(10).build();
    expect(decodePgoutput(plain)).toMatchObject({ cascade: false, restartIdentity: false });
  });
  it('decodes a message inside a larger buffer (XLogData payload at offset 25)', () => {
    const inner = new Msg().ch('I').u32(5).ch('N').tuple(['x']).build();
    const frame = Buffer.concat([Buffer.alloc(25, 0xee), inner, Buffer.from([0xff, 0xff])]);
    expect(decodePgoutput(frame, 25, 25 + inner.length)).toEqual({ tag: 'insert', relationOid: 5, newTuple: ['x'] });
  });
  it('rejects truncated and unknown messages', () => {
    const full = new Msg().ch('I').u32(5).ch('N').tuple(['abc', 'def']).build();
    for (let cut = 1; cut < full.length; cut++) {
      expect(() => decodePgoutput(full, 0, cut), `cut at ${cut}`).toThrow(ReplicationError);
    }
    expect(() => decodePgoutput(Buffer.from('Z'))).toThrow(/unexpected pgoutput message type "Z"/);
    expect(() => decodePgoutput(new Msg().ch('I').u32(5).ch('N').i16(1).ch('b').i32(1).u8(1).build())).toThrow(
      /binary tuple values/,
    );
    expect(() => decodePgoutput(new Msg().ch('R').u32(1).cstr('s').build())).toThrow(/truncated/);
  });
});

describe('walsender frames', () => {
  it('reads keepalives', () => {
    const k = new Msg().ch('k').u64(0x2000n).i64(TS_PG_US).u8(1).build();
    expect(readKeepalive(k)).toEqual({ walEnd: 0x2000n, sendTime: TS_UNIX_US, replyRequested: true });
    const k0 = new Msg().ch('k').u64(0x2000n).i64(TS_PG_US).u8(0).build();
    expect(readKeepalive(k0).replyRequested).toBe(false);
  });
  it('builds a 34-byte standby status update carrying the durable LSN three times', () => {
    const nowMs = Number(TS_UNIX_US / 1000n);
    const b = buildStatusUpdate(0x16b3748n, nowMs);
    expect(b.length).toBe(34);
    expect(String.fromCharCode(b[0]!)).toBe('r');
    expect(b.readBigUInt64BE(1)).toBe(0x16b3748n);
    expect(b.readBigUInt64BE(9)).toBe(0x16b3748n);
    expect(b.readBigUInt64BE(17)).toBe(0x16b3748n);
    expect(b.readBigInt64BE(25)).toBe(BigInt(nowMs) * 1000n - PG_EPOCH_OFFSET_US);
    expect(b[33]).toBe(0);
  });
});

describe('Backoff', () => {
  it('grows exponentially, caps, jitters downwards and resets', () => {
    const noJitter = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 }, () => 0);
    expect([1, 2, 3, 4, 5, 6].map(() => noJitter.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    noJitter.reset();
    expect(noJitter.next()).toBe(100);
    const fullJitter = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 }, () => 1);
    expect(fullJitter.next()).toBe(50);
  });
});
