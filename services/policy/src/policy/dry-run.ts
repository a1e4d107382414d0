import type {
  HttpOperation,
  HttpQueryParam,
  PolicyOperation,
  PostgresOperation,
  SqlStatement,
} from '@airlock/contracts';
import { DEFAULT_SEARCH_PATH, classifySql, qualifyTables, type SearchPath } from '@airlock/sql';
import type { DryRunBody } from './dto/admin.dto';

/**
 * The operation a dry run asks about, built as the ingress builds it: the statement classified
 * by the PostgreSQL parser (libpg-query) with its table names qualified under the search path,
 * or the HTTP request with its query decoded. The path is judged as given: give it in the
 * canonical form the upstream receives (docs/policy-http.md).
 */
export function dryRunOperation(body: DryRunBody): PolicyOperation {
  if (body.sql !== undefined) return sqlOperation(body.sql, body.params, body.searchPath ?? DEFAULT_SEARCH_PATH);
  return httpOperation(body.http!);
}

function sqlOperation(sql: string, params: Array<string | null> | undefined, path: SearchPath): PostgresOperation {
  const c = classifySql(sql);
  const statements: SqlStatement[] = c.parsed
    ? c.statements.map((s) => (s.tables.length === 0 ? s : { ...s, tables: qualifyTables(s.tables, path) }))
    : [];
  return {
    kind: 'postgres',
    via: params && params.length > 0 ? 'extended' : 'simple',
    sql: c.normalized,
    fingerprint: c.fingerprint,
    parsed: c.parsed,
    statements,
    paramCount: params?.length ?? 0,
    ...(params && params.length > 0 ? { params } : {}),
  };
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** `a=1&b&c=x+y` → name/value pairs, decoded, in order; a parameter without "=" has no value. */
export function parseQuery(query: string): HttpQueryParam[] {
  const q = query.startsWith('?') ? query.slice(1) : query;
  if (q === '') return [];
  return q
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      return eq < 0 ? { name: decode(p) } : { name: decode(p.slice(0, eq)), value: decode(p.slice(eq + 1)) };
    });
}

function httpOperation(h: NonNullable<DryRunBody['http']>): HttpOperation {
  const query = h.query !== undefined ? parseQuery(h.query) : [];
  const headers = h.headers
    ? Object.fromEntries(Object.entries(h.headers).map(([k, v]) => [k.toLowerCase(), v]))
    : undefined;
  return {
    kind: 'http',
    method: h.method,
    path: h.path,
    ...(query.length > 0 ? { query } : {}),
    ...(headers && Object.keys(headers).length > 0 ? { headers } : {}),
  };
}
