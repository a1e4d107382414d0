import type {
  A_Const,
  CommonTableExpr,
  CreateFunctionStmt,
  CreateTrigStmt,
  DefElem,
  ExplainStmt,
  FuncCall,
  ObjectType,
  RangeVar,
  WithClause,
} from 'libpg-query';
import { SqlRiskSchema, type SqlClass, type SqlRisk, type SqlStatement } from '@airlock/contracts';
import {
  DATA_MODIFYING,
  LEXER_SETTINGS,
  ROLE_SETTINGS,
  statementKind,
  stricterClass,
  type AstFields,
} from './commands';
import { functionEffect } from './functions';

/** The contract's bounds on one statement: beyond them a statement is refused as unclassifiable. */
export const STATEMENT_LIMITS = { tables: 256, functions: 256, name: 200 } as const;

/** A statement the contract cannot describe (too many names, names too long). */
export class ClassificationLimitError extends Error {}

/**
 * Fields whose value is a bare struct rather than a `{ NodeType: {...} }` wrapper, by
 * `ParentType.field`, for the types the analysis treats specially. Other bare structs are
 * still walked, just without a type.
 */
const BARE_FIELDS: Record<string, string> = {
  'SelectStmt.larg': 'SelectStmt',
  'SelectStmt.rarg': 'SelectStmt',
  'SelectStmt.intoClause': 'IntoClause',
  'CreateTableAsStmt.into': 'IntoClause',
  'PLAssignStmt.val': 'SelectStmt',
  'CallStmt.funccall': 'FuncCall',
  'AlterRoleSetStmt.setstmt': 'VariableSetStmt',
  'AlterDatabaseSetStmt.setstmt': 'VariableSetStmt',
  'AlterSystemStmt.setstmt': 'VariableSetStmt',
  'AlterDefaultPrivilegesStmt.action': 'GrantStmt',
  'CreateForeignTableStmt.base': 'CreateStmt',
  'PublicationObjSpec.pubtable': 'PublicationTable',
  ...Object.fromEntries(
    [
      'IntoClause.rel',
      'ColumnDef.identitySequence',
      'TableLikeClause.relation',
      'PartitionCmd.name',
      'InsertStmt.relation',
      'DeleteStmt.relation',
      'UpdateStmt.relation',
      'MergeStmt.relation',
      'AlterTableStmt.relation',
      'CopyStmt.relation',
      'CreateStmt.relation',
      'Constraint.pktable',
      'CreatePolicyStmt.table',
      'AlterPolicyStmt.table',
      'CreateTrigStmt.relation',
      'CreateTrigStmt.constrrel',
      'CreateSeqStmt.sequence',
      'AlterSeqStmt.sequence',
      'IndexStmt.relation',
      'RenameStmt.relation',
      'AlterObjectDependsStmt.relation',
      'AlterObjectSchemaStmt.relation',
      'AlterOwnerStmt.relation',
      'RuleStmt.relation',
      'CompositeTypeStmt.typevar',
      'ViewStmt.view',
      'ClusterStmt.relation',
      'VacuumRelation.relation',
      'RefreshMatViewStmt.relation',
      'ReindexStmt.relation',
      'PublicationTable.relation',
    ].map((f) => [f, 'RangeVar']),
  ),
};

/** Object types whose DROP, COMMENT, GRANT, ... name relations (pg_class entries). */
const RELATION_OBJECTS = new Set<ObjectType>([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_SEQUENCE',
  'OBJECT_INDEX',
]);
const FUNCTION_OBJECTS = new Set<ObjectType>([
  'OBJECT_FUNCTION',
  'OBJECT_PROCEDURE',
  'OBJECT_ROUTINE',
  'OBJECT_AGGREGATE',
]);

/**
 * How a statement sits in the one being classified:
 * - top: the statement itself;
 * - wrapped: run by its wrapper as it is (EXPLAIN ANALYZE, PREPARE, DECLARE, rule actions):
 *   the wrapper takes its class and risks;
 * - nested: part of a query (subquery, CTE, COPY's query): a data-modifying one is a write
 *   hidden in the query;
 * - planned: planned but not run (EXPLAIN without ANALYZE): only its names and the functions
 *   it calls count, as the planner may evaluate immutable functions while planning.
 */
type Role = 'top' | 'wrapped' | 'nested' | 'planned';

export function isObject(v: unknown): v is AstFields {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{ SelectStmt: {...} }` → ['SelectStmt', {...}]; node types start with a capital, fields never do. */
export function unwrap(v: unknown): [string, AstFields] | undefined {
  if (!isObject(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const [type] = keys;
  const first = type.charCodeAt(0);
  if (first < 65 || first > 90) return undefined;
  const body = v[type];
  return isObject(body) ? [type, body] : undefined;
}

/** The sval of `{ String: { sval } }` nodes, in order; anything else is skipped. */
function stringParts(nodes: unknown): string[] {
  if (!Array.isArray(nodes)) return [];
  const out: string[] = [];
  for (const n of nodes) {
    const u = unwrap(n);
    if (u && u[0] === 'String') out.push(typeof u[1].sval === 'string' ? u[1].sval : '');
  }
  return out;
}

/** A string literal, also behind a cast ('role'::text); undefined for any other expression. */
function constantString(node: unknown): string | undefined {
  let u = unwrap(node);
  if (u && u[0] === 'TypeCast') u = unwrap(u[1].arg);
  if (!u || u[0] !== 'A_Const') return undefined;
  const c = u[1] as A_Const;
  if (c.isnull || !c.sval) return undefined;
  return c.sval.sval ?? '';
}

/** EXPLAIN runs the statement when ANALYZE is on; only an explicit false keeps it off. */
function explainAnalyzes(options: ExplainStmt['options']): boolean {
  for (const o of options ?? []) {
    if (!('DefElem' in o)) continue;
    const d: DefElem = o.DefElem;
    if (d.defname !== 'analyze') continue;
    const arg = unwrap(d.arg);
    if (!arg) return true;
    const [type, body] = arg;
    if (type === 'String') return !['false', 'off', 'no', 'f', 'n', '0'].includes(String(body.sval).toLowerCase());
    if (type === 'Integer') return body.ival !== undefined && body.ival !== 0;
    if (type === 'Boolean') return body.boolval === true;
    return true;
  }
  return false;
}

class Analysis {
  /** What the statements themselves do. */
  private stmtClass: SqlClass = 'read';
  private readonly stmtRisks = new Set<SqlRisk>();
  /** What the functions called do; kept apart because a planned-only statement keeps just these. */
  private fnClass: SqlClass = 'read';
  private readonly fnRisks = new Set<SqlRisk>();
  private readonly tables = new Set<string>();
  private readonly functions = new Set<string>();
  /** CTE names visible at the current point of the walk, innermost query last. */
  private readonly cteScopes: Set<string>[] = [];

  result(command: string): SqlStatement {
    const risks = new Set([...this.stmtRisks, ...this.fnRisks]);
    const statement = {
      command,
      class: stricterClass(this.stmtClass, this.fnClass),
      tables: [...this.tables].sort(),
      functions: [...this.functions].sort(),
      risks: SqlRiskSchema.options.filter((r) => risks.has(r)),
    };
    checkLimits('tables', statement.tables);
    checkLimits('functions', statement.functions);
    return statement;
  }

  statement(type: string, body: AstFields, role: Role): void {
    if (role === 'planned') {
      const inner = new Analysis();
      inner.statement(type, body, 'top');
      this.adoptPlanned(inner);
      return;
    }
    const own = statementKind(type, body);
    this.stmtClass = stricterClass(this.stmtClass, own.class);
    for (const r of own.risks) this.stmtRisks.add(r);
    if (role === 'nested' && DATA_MODIFYING.has(type)) this.stmtRisks.add('hidden-write');
    this.statementChildren(type, body);
  }

  private adoptPlanned(inner: Analysis): void {
    for (const t of inner.tables) this.tables.add(t);
    for (const f of inner.functions) this.functions.add(f);
    for (const r of inner.fnRisks) this.fnRisks.add(r);
    this.fnClass = stricterClass(this.fnClass, inner.fnClass);
  }

  private statementChildren(type: string, body: AstFields): void {
    switch (type) {
      case 'SelectStmt':
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        this.withScope(body.withClause as WithClause | undefined, () => this.fields(type, body, 'withClause'));
        return;
      case 'ExplainStmt': {
        const e = body as ExplainStmt;
        this.fields(type, body, 'query');
        this.child(e.query, explainAnalyzes(e.options) ? 'wrapped' : 'planned');
        return;
      }
      case 'PrepareStmt':
      case 'DeclareCursorStmt':
        this.fields(type, body, 'query');
        this.child(body.query, 'wrapped');
        return;
      case 'RuleStmt':
        this.fields(type, body, 'actions');
        for (const a of Array.isArray(body.actions) ? body.actions : []) this.child(a, 'wrapped');
        return;
      case 'CreateSchemaStmt':
        this.fields(type, body, 'schemaElts');
        for (const e of Array.isArray(body.schemaElts) ? body.schemaElts : []) this.child(e, 'wrapped');
        return;
      case 'CreateFunctionStmt':
        this.addFunction(stringParts((body as CreateFunctionStmt).funcname));
        break;
      case 'CreateTrigStmt':
      case 'CreateEventTrigStmt':
        this.addFunction(stringParts((body as CreateTrigStmt).funcname));
        break;
      case 'DropStmt':
      case 'GrantStmt':
        this.namedObjects(
          (body.removeType ?? body.objtype) as ObjectType | undefined,
          Array.isArray(body.objects) ? body.objects : [],
        );
        break;
      case 'CommentStmt':
      case 'SecLabelStmt':
      case 'AlterExtensionContentsStmt':
        this.namedObjects(body.objtype as ObjectType | undefined, [body.object]);
        break;
      case 'AlterOwnerStmt':
      case 'AlterObjectSchemaStmt':
      case 'AlterObjectDependsStmt':
        this.namedObjects(body.objectType as ObjectType | undefined, [body.object]);
        break;
      case 'RenameStmt':
        this.namedObjects(body.renameType as ObjectType | undefined, [body.object]);
        break;
      case 'AlterFunctionStmt': {
        const func = body.func;
        if (isObject(func)) this.addFunction(stringParts(func.objname));
        break;
      }
    }
    this.fields(type, body);
  }

  private child(node: unknown, role: Role): void {
    const u = unwrap(node);
    if (u) this.statement(u[0], u[1], role);
    else this.node(node);
  }

  /**
   * Walks a WITH list: a CTE's own query sees the CTEs before it (all of them under
   * RECURSIVE); the rest of the statement sees them all.
   */
  private withScope(withClause: WithClause | undefined, rest: () => void): void {
    if (!withClause) return rest();
    const ctes = (withClause.ctes ?? []).flatMap((n) => ('CommonTableExpr' in n ? [n.CommonTableExpr] : []));
    const scope = new Set<string>();
    if (withClause.recursive) for (const c of ctes) if (c.ctename !== undefined) scope.add(c.ctename);
    this.cteScopes.push(scope);
    try {
      for (const c of ctes) {
        this.commonTableExpr(c);
        if (c.ctename !== undefined) scope.add(c.ctename);
      }
      rest();
    } finally {
      this.cteScopes.pop();
    }
  }

  private commonTableExpr(c: CommonTableExpr): void {
    this.fields('CommonTableExpr', c as AstFields, 'ctequery');
    this.child(c.ctequery, 'nested');
  }

  /** Walks every field of a node: arrays, wrapped nodes, and bare structs (typed where it matters). */
  private fields(type: string, body: AstFields, skip?: string): void {
    for (const key of Object.keys(body)) {
      if (key === skip) continue;
      const value = body[key];
      const bare = BARE_FIELDS[`${type}.${key}`];
      if (bare && isObject(value)) this.typed(bare, value, false);
      else this.node(value);
    }
  }

  private node(value: unknown): void {
    if (Array.isArray(value)) {
      for (const v of value) this.node(v);
      return;
    }
    const u = unwrap(value);
    if (u) this.typed(u[0], u[1], true);
    else if (isObject(value)) this.fields('', value);
  }

  /** `wrapped`: the node stood in a list or a generic field, where a name may refer to a CTE. */
  private typed(type: string, body: AstFields, wrapped: boolean): void {
    if (type === 'RangeVar') {
      this.rangeVar(body as RangeVar, wrapped);
      return;
    }
    if (type === 'FuncCall') this.funcCall(body as FuncCall);
    if (type.endsWith('Stmt') && type !== 'RawStmt') {
      this.statement(type, body, 'nested');
      return;
    }
    this.fields(type, body);
  }

  private rangeVar(r: RangeVar, mayBeCte: boolean): void {
    const parts = [r.catalogname, r.schemaname, r.relname].filter((p): p is string => p !== undefined && p !== '');
    const cte = mayBeCte && parts.length === 1 && this.cteScopes.some((s) => s.has(parts[0]));
    if (!cte && parts.length > 0) this.tables.add(parts.join('.').toLowerCase());
  }

  private funcCall(f: FuncCall): void {
    const parts = stringParts(f.funcname);
    // extract(...), trim(...), x AT TIME ZONE y: the parser names these pg_catalog.<fn>; show them as written.
    const shown = f.funcformat === 'COERCE_SQL_SYNTAX' && parts[0] === 'pg_catalog' ? parts.slice(1) : parts;
    this.addFunction(shown);
    let effect = functionEffect(parts);
    const base = parts[parts.length - 1];
    if (effect === 'session' && base === 'set_config') {
      const setting = constantString(f.args?.[0])?.toLowerCase();
      if (setting === undefined || ROLE_SETTINGS.has(setting) || LEXER_SETTINGS.has(setting)) effect = 'dangerous';
      if (setting !== undefined && ROLE_SETTINGS.has(setting)) this.fnRisks.add('role-change');
    }
    switch (effect) {
      case 'session':
        this.fnClass = stricterClass(this.fnClass, 'session');
        break;
      case 'write':
        this.fnClass = stricterClass(this.fnClass, 'write');
        this.fnRisks.add('hidden-write');
        break;
      case 'dangerous':
        this.fnClass = stricterClass(this.fnClass, 'admin');
        this.fnRisks.add('dangerous-function');
        break;
    }
  }

  private addFunction(parts: string[]): void {
    if (parts.length > 0) this.functions.add(parts.join('.').toLowerCase());
  }

  /** Relations and functions that DROP, COMMENT ON, GRANT ON, ALTER ... name without a RangeVar. */
  private namedObjects(type: ObjectType | undefined, objects: unknown[]): void {
    if (!type) return;
    for (const o of objects) {
      const u = unwrap(o);
      if (!u) continue;
      const [nodeType, body] = u;
      if (FUNCTION_OBJECTS.has(type) && nodeType === 'ObjectWithArgs') this.addFunction(stringParts(body.objname));
      if (nodeType !== 'List') continue;
      const names = stringParts(body.items);
      // COMMENT ON COLUMN names the column after its relation.
      const relation = type === 'OBJECT_COLUMN' ? names.slice(0, -1) : RELATION_OBJECTS.has(type) ? names : [];
      if (relation.length > 0) this.tables.add(relation.join('.').toLowerCase());
    }
  }
}

function checkLimits(what: 'tables' | 'functions', names: string[]): void {
  if (names.length > STATEMENT_LIMITS[what]) {
    throw new ClassificationLimitError(`statement names more than ${STATEMENT_LIMITS[what]} ${what}`);
  }
  if (names.some((n) => n.length > STATEMENT_LIMITS.name)) {
    throw new ClassificationLimitError(`statement names ${what} longer than ${STATEMENT_LIMITS.name} characters`);
  }
}

/** Classifies one parsed statement (a `RawStmt.stmt` node) by walking all of its tree. */
export function analyzeStatement(node: unknown): SqlStatement {
  const u = unwrap(node);
  const [type, body] = u ?? ['', {}];
  const analysis = new Analysis();
  analysis.statement(type, body, 'top');
  return analysis.result(statementKind(type, body).command);
}
