import { loadModule, scanSync } from 'libpg-query';

/** Scanner token types of the parts of a normalized text that must not reach the audit trail. */
export interface LiteralTokens {
  strings: Set<number>;
  comments: Set<number>;
  param: number;
}

let loading: Promise<void> | undefined;
let tokens: LiteralTokens | undefined;

/**
 * Loads the PostgreSQL parser (a WebAssembly module); classifySql needs it loaded. Safe to call
 * any number of times and concurrently.
 */
export function loadSqlParser(): Promise<void> {
  loading ??= loadModule()
    .then(() => {
      tokens = literalTokens();
    })
    .catch((err: unknown) => {
      loading = undefined;
      throw err;
    });
  return loading;
}

export function parserTokens(): LiteralTokens {
  if (!tokens) throw new Error('the SQL parser is not loaded: await loadSqlParser() before classifying SQL');
  return tokens;
}

/**
 * Token type numbers come from the parser's grammar and change between PostgreSQL versions, and
 * the scanner names only some of them; scanning one text with each kind of literal in a known
 * order finds them for the parser actually loaded.
 */
function literalTokens(): LiteralTokens {
  const probe = scanSync(`'a' E'b' $$c$$ b'0' x'0' U&'d' /* e */ -- f\n $1`).tokens;
  if (probe.length !== 9) throw new Error(`unexpected scanner output for the literal probe (${probe.length} tokens)`);
  return {
    strings: new Set(probe.slice(0, 6).map((t) => t.tokenType)),
    comments: new Set([probe[6].tokenType, probe[7].tokenType]),
    param: probe[8].tokenType,
  };
}
