import type { SqlStatementResult } from '../tool-ports/tool-ports';

/**
 * A statement's rows as JSON for a model: booleans, small integers and floats as JSON values,
 * json and jsonb parsed, bytea as base64; everything else (int8, numeric, dates) as the server's
 * text, which keeps its precision.
 */
export function rowsAsJson(r: SqlStatementResult): Array<Array<unknown>> {
  return r.rows.map((row) => row.map((v, i) => (v === null ? null : convert(v, r.columns[i]?.type ?? ''))));
}

function convert(text: string, type: string): unknown {
  switch (type) {
    case 'bool':
      return text === 't';
    case 'int2':
    case 'int4':
    case 'oid':
      return Number(text);
    case 'float4':
    case 'float8': {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case 'json':
    case 'jsonb':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    case 'bytea':
      return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex').toString('base64') : text;
    default:
      return text;
  }
}
