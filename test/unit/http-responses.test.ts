// Response header computation: cursor (§6.3), ETag and If-None-Match (§2.2, §4.1), CORS (§1.2), cache-control (§6.2).
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  EXPOSED_HEADERS,
  computeCursor,
  computeEtag,
  corsHeaders,
  etagMatches,
  mustRefetchCache,
  nonLiveCache,
  preflightHeaders,
  upToDateMessage,
} from '../../src/http/responses.js';
import { isAuthorized } from '../../src/http/server.js';

const EPOCH = Date.UTC(2024, 9, 9);

describe('computeCursor', () => {
  it('rounds seconds since 2024-10-09 up to a multiple of the timeout', () => {
    expect(computeCursor(20_000, undefined, EPOCH + 1_000)).toBe('20');
    expect(computeCursor(20_000, undefined, EPOCH + 20_000)).toBe('20');
    expect(computeCursor(20_000, undefined, EPOCH + 20_001)).toBe('40');
    expect(computeCursor(20_000, '', EPOCH + 20_001)).toBe('40');
  });

  it('moves past the client cursor when it would not change', () => {
    const c = Number(computeCursor(20_000, '40', EPOCH + 20_001, () => 0));
    expect(c).toBe(41);
    const d = Number(computeCursor(20_000, '40', EPOCH + 20_001, () => 0.9999));
    expect(d).toBe(40 + 3600);
    expect(computeCursor(20_000, '20', EPOCH + 20_001)).toBe('40');
  });

  it('is 0 under a one-second timeout, then still changes between polls', () => {
    expect(computeCursor(500, '', EPOCH + 99_000)).toBe('0');
    expect(Number(computeCursor(500, '0', EPOCH + 99_000))).toBeGreaterThan(0);
  });

  it('ignores a non-numeric client cursor', () => {
    expect(computeCursor(20_000, 'abc', EPOCH + 1_000)).toBe('20');
  });
});

describe('ETag', () => {
  it('is handle:requested:response, unique when the reply has no changes', () => {
    expect(computeEtag('H', '0_0', '5_2', false)).toBe('"H:0_0:5_2"');
    const a = computeEtag('H', '5_2', '5_2', true);
    const b = computeEtag('H', '5_2', '5_2', true);
    expect(a).toMatch(/^"H:5_2:5_2:\d+"$/);
    expect(a).not.toBe(b);
  });

  it('If-None-Match matches any comma-separated entry, quoted or not, weak or not', () => {
    const etag = '"H:0_0:5_2"';
    expect(etagMatches('"H:0_0:5_2"', etag)).toBe(true);
    expect(etagMatches('H:0_0:5_2', etag)).toBe(true);
    expect(etagMatches('"x", W/"H:0_0:5_2"', etag)).toBe(true);
    expect(etagMatches('"H:0_0:5_3"', etag)).toBe(false);
    expect(etagMatches(undefined, etag)).toBe(false);
  });
});

describe('CORS and cache headers', () => {
  const req = (headers: Record<string, string>): IncomingMessage => ({ headers }) as unknown as IncomingMessage;

  it('echoes the origin or *, exposes every electric header', () => {
    expect(corsHeaders(req({ origin: 'https://app.example' }), true)).toEqual({
      'access-control-allow-origin': 'https://app.example',
      'access-control-allow-methods': 'GET, POST, HEAD, DELETE, OPTIONS',
      'access-control-expose-headers': EXPOSED_HEADERS,
    });
    expect(corsHeaders(req({}), false)['access-control-allow-origin']).toBe('*');
    expect(corsHeaders(req({}), false)['access-control-allow-methods']).toBe('GET, HEAD');
    for (const h of [
      'electric-cursor',
      'electric-handle',
      'electric-has-data',
      'electric-offset',
      'electric-schema',
      'electric-up-to-date',
      'retry-after',
    ]) {
      expect(EXPOSED_HEADERS.split(',')).toContain(h);
    }
  });

  it('preflight: max-age and the requested headers', () => {
    expect(preflightHeaders(req({ 'access-control-request-headers': 'if-none-match, traceparent' }))).toEqual({
      'access-control-max-age': '86400',
      connection: 'keep-alive',
      'access-control-allow-headers': 'if-none-match, traceparent',
    });
  });

  it('cache-control values', () => {
    expect(nonLiveCache(60, 300)).toBe('public, max-age=60, stale-while-revalidate=300');
    expect(mustRefetchCache(true)).toBe('public, max-age=60, must-revalidate');
    expect(mustRefetchCache(false)).toBe('public, max-age=1, must-revalidate');
  });

  it('up-to-date carries a decimal global_last_seen_lsn', () => {
    expect(JSON.parse(upToDateMessage(0x16b3f70n))).toEqual({
      headers: { control: 'up-to-date', global_last_seen_lsn: '23805808' },
    });
  });
});

describe('isAuthorized', () => {
  const qs = (s: string): URLSearchParams => new URLSearchParams(s);
  it('accepts secret, api_secret or a bearer token when a secret is set', () => {
    expect(isAuthorized(undefined, qs(''), undefined)).toBe(true);
    expect(isAuthorized('s3', qs('secret=s3'), undefined)).toBe(true);
    expect(isAuthorized('s3', qs('api_secret=s3'), undefined)).toBe(true);
    expect(isAuthorized('s3', qs(''), 'Bearer s3')).toBe(true);
    expect(isAuthorized('s3', qs('secret=no'), undefined)).toBe(false);
    expect(isAuthorized('s3', qs(''), 'Bearer no')).toBe(false);
    expect(isAuthorized('s3', qs(''), undefined)).toBe(false);
  });
});
