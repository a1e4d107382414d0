/**
 * The shape of a query text: the text with every unsigned numeric literal replaced by a NUL
 * character (which no classified text contains). Texts of one shape differ only in the values
 * of numeric constants, which never change what a statement is, which tables and functions it
 * names or which risks it carries — so a classification may be reused across a shape, and
 * `pgbench -S`-style traffic (one statement, a new number each time) is parsed once.
 *
 * Only numbers are abstracted: string literals stay in the key as written, because their values
 * can matter (`set_config('role', ...)`). Anything this scanner is not sure to read exactly as
 * PostgreSQL does gives null, and the text is parsed on its own: comments, dollar quotes and
 * positional parameters ($), backslashes (escape strings, standard_conforming_strings off),
 * prefixed strings (E'', B'', X'', U&''), numbers touching an identifier character (1abc, 0x1F,
 * 1_000), numbers starting with a dot, an unterminated quote.
 */
export function shapeKey(sql: string): string | null {
  return shapeOf(sql)?.key ?? null;
}

/**
 * The shape key of a text, and a sibling of the same shape: every numeric constant replaced by
 * another one. The classifier trusts a shape only once the sibling classifies exactly like the
 * text, which catches numbers the grammar reads as syntax rather than constants (FETCH 5).
 */
export function shapeOf(sql: string): { key: string; sibling: string; numbers: number } | null {
  if (sql.includes('\\')) return null;
  let key = '';
  let sibling = '';
  let copied = 0;
  let numbers = 0;
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 0x27 /* ' */ || c === 0x22 /* " */) {
      if (c === 0x27 && i > 0 && isIdent(sql.charCodeAt(i - 1))) return null;
      const end = closingQuote(sql, i, c);
      if (end < 0) return null;
      i = end + 1;
      continue;
    }
    if (c === 0x24 /* $ */ || c === 0 || c > 0x7f) {
      // Non-ASCII is left to the parser: identifiers may hold letters this scanner does not know.
      return null;
    }
    if (c === 0x2d /* - */ && sql.charCodeAt(i + 1) === 0x2d) return null;
    if (c === 0x2f /* / */ && sql.charCodeAt(i + 1) === 0x2a) return null;
    if (c === 0x2e /* . */ && isDigit(sql.charCodeAt(i + 1)) && !(i > 0 && isIdent(sql.charCodeAt(i - 1)))) {
      return null;
    }
    if (isDigit(c)) {
      if (i > 0 && isIdent(sql.charCodeAt(i - 1))) {
        // Part of an identifier such as t1.
        i++;
        continue;
      }
      const end = numberEnd(sql, i);
      if (end < 0) return null;
      const between = sql.slice(copied, i);
      key += between + '\0';
      sibling += between + (sql.slice(i, end) === '1' ? '2' : '1');
      copied = end;
      numbers++;
      i = end;
      continue;
    }
    i++;
  }
  const rest = sql.slice(copied);
  return { key: key + rest, sibling: sibling + rest, numbers };
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Letters, digits, underscore: what continues an identifier (ASCII; non-ASCII was refused). */
function isIdent(c: number): boolean {
  return isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/** Index of the quote that closes the literal opened at `start` (a doubled quote is part of it), or -1. */
function closingQuote(sql: string, start: number, quote: number): number {
  let i = start + 1;
  for (;;) {
    const j = sql.indexOf(String.fromCharCode(quote), i);
    if (j < 0) return -1;
    if (sql.charCodeAt(j + 1) === quote) {
      i = j + 2;
      continue;
    }
    return j;
  }
}

/** End of a decimal literal (digits[.digits][e[+-]digits]) starting at `i`, or -1 when it touches an identifier. */
function numberEnd(sql: string, start: number): number {
  let i = start;
  while (isDigit(sql.charCodeAt(i))) i++;
  if (sql.charCodeAt(i) === 0x2e /* . */) {
    // "1..2" or "1.e" are left to the parser.
    if (sql.charCodeAt(i + 1) === 0x2e) return -1;
    i++;
    while (isDigit(sql.charCodeAt(i))) i++;
  }
  const e = sql.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    let j = i + 1;
    const sign = sql.charCodeAt(j);
    if (sign === 0x2b || sign === 0x2d) j++;
    if (!isDigit(sql.charCodeAt(j))) return -1;
    while (isDigit(sql.charCodeAt(j))) j++;
    i = j;
  }
  if (i < sql.length && (isIdent(sql.charCodeAt(i)) || sql.charCodeAt(i) === 0x2e)) return -1;
  return i;
}
