// Finds where a clause stops being one boolean expression (`ORDER BY`, `LIMIT`, `UNION`, `;` …), for the error caret.

/**
 * Keywords that start a clause after WHERE's expression. All are reserved or, like FETCH, rejected as a column name
 * by the grammar, so outside parentheses they appear only as clauses, or as a name after a dot (`items.order`).
 */
const CLAUSE_WORDS = new Set([
  'order',
  'group',
  'having',
  'window',
  'limit',
  'offset',
  'fetch',
  'for',
  'union',
  'intersect',
  'except',
]);

// Sticky: they match at lastIndex only, so scanning stays linear in the clause length.
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/y;
const WORD = /[A-Za-z_\u0080-\uffff][\w$\u0080-\uffff]*/y;

/** The end of a quoted or commented stretch starting at `i`, or `i` when none starts there. */
function skipQuoted(src: string, i: number): number {
  const c = src[i];
  const next = src[i + 1];
  if (c === '-' && next === '-') {
    const nl = src.indexOf('\n', i);
    return nl < 0 ? src.length : nl + 1;
  }
  if (c === '/' && next === '*') return skipBlockComment(src, i);
  if (c === "'") {
    // E'…' strings escape quotes with a backslash as well; standard strings only with ''.
    const escapes = i > 0 && /[eE]/.test(src[i - 1] as string) && !/[\w$]/.test(src[i - 2] ?? ' ');
    return skipDelimited(src, i, "'", escapes);
  }
  if (c === '"') return skipDelimited(src, i, '"', false);
  if (c === '$') {
    DOLLAR_TAG.lastIndex = i;
    const tag = DOLLAR_TAG.exec(src);
    if (tag) {
      const end = src.indexOf(tag[0], i + tag[0].length);
      return end < 0 ? src.length : end + tag[0].length;
    }
  }
  return i;
}

function skipDelimited(src: string, start: number, quote: string, backslash: boolean): number {
  let i = start + 1;
  while (i < src.length) {
    const c = src[i];
    if (backslash && c === '\\') i += 2;
    else if (c === quote && src[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return src.length;
}

/** Postgres block comments nest. */
function skipBlockComment(src: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < src.length) {
    if (src.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (src.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return src.length;
}

/**
 * Where the first `;` or clause keyword outside parentheses, strings, quoted identifiers and comments sits; called
 * only after the parser found such a clause, so the text is valid SQL. Undefined when none is found.
 */
export function extraClausePosition(clause: string): { start: number; length: number } | undefined {
  let depth = 0;
  let i = 0;
  let prev = ''; // the last character before `i` that is not whitespace
  while (i < clause.length) {
    const skipped = skipQuoted(clause, i);
    if (skipped !== i) {
      i = skipped;
      prev = clause[i - 1] as string;
      continue;
    }
    const c = clause[i] as string;
    if (c === '(' || c === '[') depth++;
    else if (c === ')' || c === ']') depth--;
    else if (c === ';' && depth === 0) return { start: i, length: 1 };
    WORD.lastIndex = i;
    const word = WORD.exec(clause);
    if (word) {
      if (depth === 0 && prev !== '.' && CLAUSE_WORDS.has(word[0].toLowerCase())) {
        return { start: i, length: word[0].length };
      }
      i += word[0].length;
      prev = clause[i - 1] as string;
    } else {
      if (!/\s/.test(c)) prev = c;
      i++;
    }
  }
  return undefined;
}
