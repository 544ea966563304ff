// isConnectionLoss tells a database that is away (warn, passes) from a query that failed (error).
import { describe, expect, it } from 'vitest';
import { isConnectionLoss } from '../../src/shapes/schema-watch.js';

describe('isConnectionLoss', () => {
  it('is true for refused, reset and shut-down connections', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(isConnectionLoss(refused)).toBe(true);
    expect(isConnectionLoss({ code: '57P01', message: 'terminating connection due to administrator command' })).toBe(
      true,
    );
    expect(isConnectionLoss({ code: '08006', message: 'connection failure' })).toBe(true);
    expect(isConnectionLoss(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('is false for failed queries and non-errors', () => {
    expect(isConnectionLoss({ code: '42P01', message: 'relation "x" does not exist' })).toBe(false);
    expect(isConnectionLoss({ code: '57014', message: 'canceling statement due to statement timeout' })).toBe(false);
    expect(isConnectionLoss(new Error('boom'))).toBe(false);
    expect(isConnectionLoss(null)).toBe(false);
    expect(isConnectionLoss('ECONNREFUSED')).toBe(false);
  });
});
