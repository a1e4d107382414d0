import { isObject, unwrap } from './analyze';
import type { AstFields } from './commands';

/**
 * What a statement does to the session state the gateway follows: the `search_path` (which
 * decides what an unqualified table name means) and the names of prepared statements and portals
 * that SQL can create or drop behind the protocol's back (PREPARE, DEALLOCATE, DECLARE, CLOSE,
 * DISCARD).
 */

/** One change of `search_path` a statement may make, in order. */
export type SearchPathEffect =
  /** A list of schema names exactly as the server will store them (SET search_path = ...). */
  | { kind: 'set'; schemas: string[] }
  /** A setting text the server parses as a list (set_config with a constant). */
  | { kind: 'text'; text: string }
  /** Back to the session's start-up value (RESET, SET ... TO DEFAULT, DISCARD ALL). */
  | { kind: 'reset' }
  /** A value the gateway cannot know before the server runs the statement. */
  | { kind: 'untracked' };

export interface SessionEffects {
  searchPath: SearchPathEffect[];
  /** Prepared statement names SQL creates or drops; 'all' when every one may go. */
  statements: string[] | 'all';
  /** Portal (cursor) names SQL creates or drops; 'all' when every one may go. */
  portals: string[] | 'all';
}

type Fields = AstFields;

/** The string of an A_Const (also behind a cast), or undefined. */
function constantString(node: unknown): string | undefined {
  let u = unwrap(node);
  if (u && u[0] === 'TypeCast') u = unwrap(u[1].arg);
  if (!u || u[0] !== 'A_Const') return undefined;
  const sval = u[1].sval;
  if (!isObject(sval)) return undefined;
  return typeof sval.sval === 'string' ? sval.sval : '';
}

function funcName(f: Fields): string[] {
  const names = Array.isArray(f.funcname) ? f.funcname : [];
  return names.map((n) => {
    const u = unwrap(n);
    return u && u[0] === 'String' && typeof u[1].sval === 'string' ? u[1].sval : '';
  });
}

class Collector {
  readonly searchPath: SearchPathEffect[] = [];
  statements: Set<string> | 'all' = new Set();
  portals: Set<string> | 'all' = new Set();

  statement(type: string, body: Fields): void {
    switch (type) {
      case 'VariableSetStmt':
        this.variableSet(body);
        break;
      case 'PrepareStmt':
        this.addStatement(body.name);
        break;
      case 'DeallocateStmt':
        if (typeof body.name === 'string' && body.name !== '' && body.isall !== true) this.addStatement(body.name);
        else this.statements = 'all';
        break;
      case 'DeclareCursorStmt':
        this.addPortal(body.portalname);
        break;
      case 'ClosePortalStmt':
        if (typeof body.portalname === 'string' && body.portalname !== '') this.addPortal(body.portalname);
        else this.portals = 'all';
        break;
      case 'DiscardStmt':
        if (body.target === 'DISCARD_ALL') {
          this.statements = 'all';
          this.portals = 'all';
          this.searchPath.push({ kind: 'reset' });
        }
        break;
    }
  }

  private variableSet(body: Fields): void {
    const kind = body.kind;
    const name = typeof body.name === 'string' ? body.name.toLowerCase() : undefined;
    if (kind === 'VAR_RESET_ALL') {
      this.searchPath.push({ kind: 'reset' });
      return;
    }
    if (name !== 'search_path') return;
    if (kind === 'VAR_SET_DEFAULT' || kind === 'VAR_RESET') {
      this.searchPath.push({ kind: 'reset' });
    } else if (kind === 'VAR_SET_VALUE') {
      const args = Array.isArray(body.args) ? body.args : [];
      const schemas = args.map(constantString);
      if (schemas.every((s): s is string => s !== undefined)) this.searchPath.push({ kind: 'set', schemas });
      else this.searchPath.push({ kind: 'untracked' });
    } else if (kind !== 'VAR_SET_CURRENT') {
      this.searchPath.push({ kind: 'untracked' });
    }
  }

  /** set_config('search_path', ...) anywhere in a statement. */
  funcCall(f: Fields): void {
    const parts = funcName(f);
    const base = parts[parts.length - 1];
    if (base !== 'set_config' || (parts.length > 1 && parts[0] !== 'pg_catalog')) return;
    const args = Array.isArray(f.args) ? f.args : [];
    const setting = constantString(args[0]);
    if (setting === undefined) {
      // Which setting it changes is only known when it runs: it may be the path.
      this.searchPath.push({ kind: 'untracked' });
      return;
    }
    if (setting.trim().toLowerCase() !== 'search_path') return;
    const text = constantString(args[1]);
    this.searchPath.push(text === undefined ? { kind: 'untracked' } : { kind: 'text', text });
  }

  private addStatement(name: unknown): void {
    if (this.statements !== 'all' && typeof name === 'string') this.statements.add(name);
  }

  private addPortal(name: unknown): void {
    if (this.portals !== 'all' && typeof name === 'string') this.portals.add(name);
  }

  result(): SessionEffects | undefined {
    const statements = this.statements === 'all' ? 'all' : [...this.statements];
    const portals = this.portals === 'all' ? 'all' : [...this.portals];
    if (this.searchPath.length === 0 && statements.length === 0 && portals.length === 0) return undefined;
    return { searchPath: this.searchPath, statements, portals };
  }
}

function walk(node: unknown, c: Collector, depth: number): void {
  if (depth > 1000) throw new RangeError('statement nested too deeply');
  if (Array.isArray(node)) {
    for (const n of node) walk(n, c, depth + 1);
    return;
  }
  if (!isObject(node)) return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'FuncCall' && isObject(value)) c.funcCall(value);
    else if (isObject(value) && key.charCodeAt(0) >= 65 && key.charCodeAt(0) <= 90) c.statement(key, value);
    walk(value, c, depth + 1);
  }
}

/** The session effects of a parsed text's statements (`RawStmt.stmt` nodes), or undefined when none. */
export function sessionEffects(stmts: readonly unknown[]): SessionEffects | undefined {
  const c = new Collector();
  walk(stmts, c, 0);
  return c.result();
}
