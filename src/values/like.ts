// LIKE and ILIKE: pattern compilation to specialised checks, Postgres's MatchText for the rest, and the literal prefix.
import { ErrorCode, ValueError } from '../errors/index.js';
import { lowerAscii } from './text.js';

const BACKSLASH = 0x5c;
const PERCENT = 0x25;
const UNDERSCORE = 0x5f;

export type LikeMatcher = (value: string) => boolean;

export interface LikePrefix {
  /** Literal text every match starts with (ASCII-lower-cased for ILIKE: compare against lowerAscii(value)). */
  readonly prefix: string;
  /** The pattern has no wildcard: it matches exactly `prefix`. */
  readonly exact: boolean;
  /** 'any': the pattern is `prefix%` (value matches ⇔ it starts with prefix); 'complex': more checks needed. */
  readonly rest: 'any' | 'complex';
}

const invalidEscape = (): ValueError => new ValueError(ErrorCode.EvaluationError, 'invalid escape string');
const endsWithEscape = (): ValueError =>
  new ValueError(ErrorCode.EvaluationError, 'LIKE pattern must not end with escape character');

/**
 * Postgres's like_escape: rewrites a pattern with a custom escape into the backslash-escaped form MatchText reads.
 * `escape` null means the default (backslash); '' means no escape character at all.
 */
function toBackslashForm(pattern: string, escape: string | null): string {
  if (escape === null || escape === '\\') return pattern;
  if (escape === '') return pattern.includes('\\') ? pattern.replaceAll('\\', '\\\\') : pattern;
  const e = escape.codePointAt(0)!;
  if (String.fromCodePoint(e).length !== escape.length) throw invalidEscape();
  let out = '';
  let afterEscape = false;
  for (const ch of pattern) {
    if (!afterEscape && ch.codePointAt(0) === e) {
      out += '\\';
      afterEscape = true;
    } else if (ch === '\\') {
      out += afterEscape ? '\\' : '\\\\';
      afterEscape = false;
    } else {
      out += ch;
      afterEscape = false;
    }
  }
  return out;
}

type Token = string | typeof ANY | typeof ONE;
const ANY = 0;
const ONE = 1;

interface Parsed {
  readonly tokens: readonly Token[];
  /** The backslash form ends in an unpaired backslash: Postgres raises an error only for some values. */
  readonly trailingEscape: boolean;
}

/** Splits a backslash-form pattern into literal runs, `%` (ANY) and `_` (ONE); consecutive `%` collapse. */
function tokenize(p: string): Parsed {
  const tokens: Token[] = [];
  let lit = '';
  let trailingEscape = false;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === BACKSLASH) {
      if (i + 1 >= p.length) {
        trailingEscape = true;
        break;
      }
      lit += p[++i];
    } else if (c === PERCENT || c === UNDERSCORE) {
      if (lit !== '') tokens.push(lit);
      lit = '';
      const t = c === PERCENT ? ANY : ONE;
      if (!(t === ANY && tokens[tokens.length - 1] === ANY)) tokens.push(t);
    } else {
      lit += p[i];
    }
  }
  if (lit !== '') tokens.push(lit);
  return { tokens, trailingEscape };
}

function prepare(pattern: string, escape: string | null, caseInsensitive: boolean): { bs: string; parsed: Parsed } {
  // ILIKE lower-cases the pattern after escape processing, so the escape character itself is case-sensitive.
  let bs = toBackslashForm(pattern, escape);
  if (caseInsensitive) bs = lowerAscii(bs);
  return { bs, parsed: tokenize(bs) };
}

const TRUE = 1;
const FALSE = 0;
const ABORT = -1;

function nextChar(t: string, i: number): number {
  const c = t.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < t.length) {
    const d = t.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return i + 2;
  }
  return i + 1;
}

/**
 * A port of Postgres's MatchText (like_match.c) over UTF-16: literals compare unit by unit, `_` skips one code
 * point. Kept faithful, including where it raises the trailing-escape error, because that error depends on the
 * value (`'abc' LIKE 'abc\'` is false, `'abcd' LIKE 'abc\'` is an error). ABORT prunes hopeless `%` retries.
 */
function matchText(t: string, ti: number, p: string, pi: number): number {
  const tn = t.length;
  const pn = p.length;
  if (pn - pi === 1 && p.charCodeAt(pi) === PERCENT) return TRUE;
  while (ti < tn && pi < pn) {
    const pc = p.charCodeAt(pi);
    if (pc === BACKSLASH) {
      pi++;
      if (pi >= pn) throw endsWithEscape();
      if (p.charCodeAt(pi) !== t.charCodeAt(ti)) return FALSE;
    } else if (pc === PERCENT) {
      pi++;
      while (pi < pn) {
        const c = p.charCodeAt(pi);
        if (c === PERCENT) pi++;
        else if (c === UNDERSCORE) {
          if (ti >= tn) return ABORT;
          ti = nextChar(t, ti);
          pi++;
        } else break;
      }
      if (pi >= pn) return TRUE;
      let firstpat: number;
      if (p.charCodeAt(pi) === BACKSLASH) {
        if (pn - pi < 2) throw endsWithEscape();
        firstpat = p.charCodeAt(pi + 1);
      } else firstpat = p.charCodeAt(pi);
      while (ti < tn) {
        if (t.charCodeAt(ti) === firstpat) {
          const m = matchText(t, ti, p, pi);
          if (m !== FALSE) return m;
        }
        ti = nextChar(t, ti);
      }
      return ABORT;
    } else if (pc === UNDERSCORE) {
      ti = nextChar(t, ti);
      pi++;
      continue;
    } else if (pc !== t.charCodeAt(ti)) {
      return FALSE;
    }
    ti++;
    pi++;
  }
  if (ti < tn) return FALSE;
  while (pi < pn && p.charCodeAt(pi) === PERCENT) pi++;
  return pi >= pn ? TRUE : ABORT;
}

/** Picks the cheapest exact check for the pattern's shape; anything irregular runs MatchText. */
function build(bs: string, parsed: Parsed): LikeMatcher {
  const { tokens, trailingEscape } = parsed;
  if (!trailingEscape) {
    const n = tokens.length;
    const first = tokens[0];
    const last = tokens[n - 1];
    if (n === 0) return (v) => v === '';
    if (n === 1) {
      if (first === ANY) return () => true;
      if (typeof first === 'string') return (v) => v === first;
    }
    if (n === 2 && typeof first === 'string' && last === ANY) return (v) => v.startsWith(first);
    if (n === 2 && first === ANY && typeof last === 'string') return (v) => v.endsWith(last);
    if (n === 3 && first === ANY && last === ANY) {
      const mid = tokens[1];
      if (typeof mid === 'string') return (v) => v.includes(mid);
    }
  }
  return (v) => matchText(v, 0, bs, 0) === TRUE;
}

const CACHE_LIMIT = 2048;
const cache = new Map<string, LikeMatcher>();

/**
 * Compiles `value LIKE pattern [ESCAPE escape]` (ILIKE when caseInsensitive, folding ASCII letters only).
 * `escape`: null = default backslash, '' = no escape character. Throws ValueError(EvaluationError) for an escape
 * of more than one character; the matcher throws for a pattern ending in the escape when Postgres would.
 * Compiled matchers are cached (bounded), so per-row column patterns stay cheap.
 */
export function compileLike(pattern: string, escape: string | null, caseInsensitive: boolean): LikeMatcher {
  const key = (caseInsensitive ? 'i' : 'c') + (escape === null ? '' : escape.length + ':' + escape) + '|' + pattern;
  let m = cache.get(key);
  if (m !== undefined) return m;
  const { bs, parsed } = prepare(pattern, escape, caseInsensitive);
  const base = build(bs, parsed);
  m = caseInsensitive ? (v) => base(lowerAscii(v)) : base;
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, m);
  return m;
}

/** One-off `value LIKE pattern` (the `like(text, text)` function and constant folding). */
export function like(value: string, pattern: string, escape: string | null = null, caseInsensitive = false): boolean {
  return compileLike(pattern, escape, caseInsensitive)(value);
}

/**
 * The pattern ends in an unpaired escape character. Postgres then errors for some values only (those the matcher
 * reaches the end with); a compiler may choose to reject such constant patterns up front.
 */
export function likeEndsWithEscape(pattern: string, escape: string | null): boolean {
  return tokenize(toBackslashForm(pattern, escape)).trailingEscape;
}

/** The literal prefix before the first wildcard, for the router's prefix index. */
export function likePrefix(pattern: string, escape: string | null, caseInsensitive: boolean): LikePrefix {
  const { tokens, trailingEscape } = prepare(pattern, escape, caseInsensitive).parsed;
  const first = tokens[0];
  const prefix = typeof first === 'string' ? first : '';
  const start = prefix === '' ? 0 : 1;
  if (!trailingEscape && tokens.length === start) return { prefix, exact: true, rest: 'complex' };
  const any = !trailingEscape && tokens.length === start + 1 && tokens[start] === ANY;
  return { prefix, exact: false, rest: any ? 'any' : 'complex' };
}
