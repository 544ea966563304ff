// One error model: every error class the package exports extends SwitchyardError and carries an ErrorCode.
import { describe, expect, it } from 'vitest';
import * as root from '../../src/index.js';
import { ReplicationError } from '../../src/replication/index.js';

const codes = new Set<string>(Object.values(root.ErrorCode));

describe('error model', () => {
  it('every exported error class extends SwitchyardError', () => {
    const classes = Object.entries(root).filter(
      ([, v]) => typeof v === 'function' && (v as { prototype?: unknown }).prototype instanceof Error,
    );
    expect(classes.map(([k]) => k)).toEqual(
      expect.arrayContaining(['WhereError', 'ShapeRequestError', 'ShapeCreationError', 'ShardFailureError']),
    );
    for (const [name, cls] of classes) {
      if (cls === root.SwitchyardError) continue;
      expect((cls as { prototype: unknown }).prototype, name).toBeInstanceOf(root.SwitchyardError);
    }
  });

  it('each error carries a code of the ErrorCode enum', () => {
    const errors: root.SwitchyardError[] = [
      new root.WhereError(root.ErrorCode.Syntax, 'x', 0),
      new root.ValueError(root.ErrorCode.OutOfRange, 'x'),
      new root.RouterError(root.ErrorCode.UnknownShape, 'x'),
      new root.ShardFailureError('x'),
      new root.ShapeRequestError({ where: ['x'] }),
      new root.ShapeCreationError('x'),
      new ReplicationError(root.ErrorCode.ReplicationProtocol, 'x'),
    ];
    for (const e of errors) {
      expect(e).toBeInstanceOf(root.SwitchyardError);
      expect(codes.has(e.code), `${e.name}: ${e.code}`).toBe(true);
      expect(e.toJSON()).toMatchObject({ code: e.code, message: e.message });
    }
  });

  it('a replication error keeps its cause and serialises its code', () => {
    const cause = new Error('socket hang up');
    const e = new ReplicationError(root.ErrorCode.ReplicationConnection, 'lost', { cause });
    expect(e.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(e))).toEqual({ code: 'replication_connection', message: 'lost' });
  });

  it('a shape creation refusal maps to 429 or 503 by its code', () => {
    expect(new root.ShapeCreationError('db down').httpStatus).toBe(503);
    const busy = new root.ShapeCreationError('busy', 2, { code: root.ErrorCode.TooManyCreations });
    expect([busy.httpStatus, busy.retryAfterSeconds, busy.code]).toEqual([429, 2, 'too_many_creations']);
    expect(new root.ShapeCreationError('full', 30, { code: root.ErrorCode.ShapeLimit }).httpStatus).toBe(503);
  });
});
