import { createHash } from 'node:crypto';
import { fingerprintSync, normalizeSync, parseSync, scanSync } from 'libpg-query';
import { truncateText, type SqlStatement } from '@airlock/contracts';
import { ClassificationLimitError, analyzeStatement } from './analyze';
import { parserTokens } from './parser';
import { sessionEffects, type SessionEffects } from './session-effects';

/** What the gateway knows about one query text. */
export type Classification =
  | {
      parsed: true;
      statements: SqlStatement[];
      fingerprint: string;
      normalized: string;
      /** What the text does to the session state the gateway follows; absent when nothing. */
      effects?: SessionEffects;
    }
  | { parsed: false; error: string; fingerprint: string; normalized: string };

/** The contract's bounds on an operation's text and statement list. */
export const OPERATION_LIMITS = { normalized: 16384, statements: 1000, error: 256 } as const;

/**
 * Classifies a query text (one or several statements) with the PostgreSQL parser. Never throws
 * for any input text: what cannot be parsed or described comes back as `parsed: false`, which
 * policy refuses unless a rule explicitly admits unparsed text.
 */
export function classifySql(sql: string): Classification {
  const tokens = parserTokens();
  // The parser rejects an empty string outright; PostgreSQL answers it with EmptyQueryResponse.
  if (sql.length === 0) return { parsed: true, statements: [], fingerprint: emptyFingerprint(), normalized: '' };
  // The parser reads a C string and would stop at a NUL, classifying less than it was given.
  if (sql.includes('\0')) return unparsed(sql, 'text contains a NUL character');
  let stmts: unknown[];
  try {
    stmts = (parseSync(sql).stmts ?? []).map((s) => s.stmt);
  } catch (err) {
    return unparsed(sql, parserMessage(err));
  }
  let statements: SqlStatement[];
  let effects: SessionEffects | undefined;
  try {
    if (stmts.length > OPERATION_LIMITS.statements) {
      throw new ClassificationLimitError(`text holds more than ${OPERATION_LIMITS.statements} statements`);
    }
    statements = stmts.map(analyzeStatement);
    effects = sessionEffects(stmts);
  } catch (err) {
    if (err instanceof ClassificationLimitError) return unparsed(sql, err.message);
    // A tree deep enough to exhaust the stack is refused rather than half-classified.
    if (err instanceof RangeError) return unparsed(sql, 'statement is nested too deeply to classify');
    throw err;
  }
  return {
    parsed: true,
    statements,
    fingerprint: fingerprint(sql),
    normalized: normalized(sql, tokens),
    ...(effects ? { effects } : {}),
  };
}

function unparsed(sql: string, error: string): Classification {
  const hash = sha256(sql);
  return {
    parsed: false,
    error: truncateText(error, OPERATION_LIMITS.error),
    fingerprint: `unparsed:${hash.slice(0, 32)}`,
    normalized: `sha256:${hash}`,
  };
}

function parserMessage(err: unknown): string {
  if (err instanceof Error) {
    const details = (err as { sqlDetails?: { message?: unknown } }).sqlDetails;
    return typeof details?.message === 'string' ? details.message : err.message;
  }
  return 'the SQL parser failed';
}

let empty: string | undefined;
function emptyFingerprint(): string {
  // The same as for a text of only blanks or comments, which the parser does accept.
  empty ??= fingerprintSync(' ');
  return empty;
}

function fingerprint(sql: string): string {
  try {
    return fingerprintSync(sql);
  } catch {
    return `sha256:${sha256(sql).slice(0, 32)}`;
  }
}

/**
 * libpg_query's normalization replaces most literals with $n, but keeps comments and the
 * string constants of some statements (COPY's file name, COMMENT's text, ...). Either may hold a
 * secret, so the text goes through the scanner once more: comments are dropped and every string
 * constant left becomes the next $n. Offsets from the scanner are UTF-8 byte offsets.
 */
function normalized(sql: string, tokens: ReturnType<typeof parserTokens>): string {
  try {
    const text = normalizeSync(sql);
    if (!mayHoldLiteralOrComment(text)) return truncateText(text, OPERATION_LIMITS.normalized);
    const scanned = scanSync(text).tokens;
    let next = 0;
    for (const t of scanned) if (t.tokenType === tokens.param) next = Math.max(next, Number(t.text.slice(1)) || 0);
    const bytes = Buffer.from(text, 'utf8');
    const parts: string[] = [];
    let at = 0;
    for (const t of scanned) {
      const comment = tokens.comments.has(t.tokenType);
      if (!comment && !tokens.strings.has(t.tokenType)) continue;
      parts.push(bytes.subarray(at, t.start).toString('utf8'), comment ? ' ' : `$${++next}`);
      at = t.end;
    }
    parts.push(bytes.subarray(at).toString('utf8'));
    return truncateText(parts.join(''), OPERATION_LIMITS.normalized);
  } catch {
    return `sha256:${sha256(sql)}`;
  }
}

/**
 * Scanning is the costly step, and most normalized texts hold nothing it would change: every
 * string constant contains a quote or starts with a dollar quote ($$, $tag$), every comment
 * starts with -- or slash-star, and the $n placeholders are a dollar and a digit.
 */
function mayHoldLiteralOrComment(text: string): boolean {
  if (text.includes("'") || text.includes('--') || text.includes('/*')) return true;
  for (let i = text.indexOf('$'); i !== -1; i = text.indexOf('$', i + 1)) {
    const next = text.charCodeAt(i + 1);
    if (!(next >= 48 && next <= 57)) return true;
  }
  return false;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
