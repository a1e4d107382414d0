import { isObject, unwrap } from './analyze';
import type { AstFields } from './commands';
import { parseSync } from 'libpg-query';
import { functionEffect } from './functions';
import { tableCandidates, type SearchPath } from './search-path';

/**
 * Where the values of a statement's result come from, column by column, and where masked data is
 * used to choose rows: masking follows the data through expressions, not a result column's name.
 *
 * The analysis walks the parse tree with the relations in scope at each point. Every value is
 * "tainted" by the masking rules of the columns it is computed from; an output column is masked
 * by the rules of its whole expression. Whatever cannot be followed (a relation not known, a
 * function whose body cannot be seen, a view that cannot be resolved, a result the statement does
 * not describe) is tainted by {@link UNRESOLVED_RULE}: masked, never passed.
 */

/** The rule that masks what the analysis cannot follow. */
export const UNRESOLVED_RULE = 'unresolved-column';

/** Which table columns are masked. */
export interface MaskedColumns {
  /** The rule that masks `schema.table.column` (names as the catalog stores them), or null. */
  columnRule(schema: string, table: string, column: string): string | null;
  /** The rule that masks any column of this name, or null. */
  fieldRule(column: string): string | null;
}

/** A relation as the catalog describes it. */
export type RelationInfo =
  | { kind: 'table'; columns: readonly string[] }
  /** A view (or materialized view): `definition` is its query's parse tree, undefined when it could not be had. */
  | { kind: 'view'; columns: readonly string[]; definition: unknown };

/** The relations the analysis may look up, by `schema.name`. */
export interface RelationSource {
  /**
   * The relation; null when there is none of that name (when the catalog was asked: a name that
   * no candidate resolves to is unresolved); undefined when it is not known.
   */
  relation(qualified: string): RelationInfo | null | undefined;
}

export interface DataFlowContext {
  masked: MaskedColumns;
  searchPath: SearchPath;
  relations: RelationSource;
}

/** What one statement does with masked data. */
export interface StatementFlow {
  /** Per result column, in order, the rules that mask it (empty: the column is not masked). */
  outputs: string[][];
  /**
   * The rules that mask the result columns past `outputs`: the analysis could not tell how many
   * columns there are (a relation with unknown columns, FETCH, EXECUTE).
   */
  rest: string[];
  /** Rules of masked data that chooses or orders rows: WHERE, JOIN, GROUP BY, HAVING, ORDER BY, ... */
  searched: string[];
  /** Rules of masked data the statement writes into a table (INSERT ... SELECT, UPDATE SET, SELECT INTO). */
  written: string[];
  /**
   * True when a number in the text names an output column (`ORDER BY 2`): the flow then depends
   * on that number, and must not be reused for a text that differs from this one only in numbers.
   */
  positional?: true;
}

/** Views inside views are followed this deep; deeper ones are not resolved. */
export const VIEW_DEPTH = 8;

type Taint = ReadonlySet<string>;
const CLEAN: Taint = new Set();
const UNRESOLVED: Taint = new Set([UNRESOLVED_RULE]);

function union(a: Taint, b: Taint): Taint {
  if (b.size === 0 || a === b) return a;
  if (a.size === 0) return b;
  let out: Set<string> | undefined;
  for (const r of b) {
    if (a.has(r)) continue;
    out ??= new Set(a);
    out.add(r);
  }
  return out ?? a;
}

interface Col {
  name: string;
  taint: Taint;
}

/**
 * The columns a query or relation gives: `cols` in order, then, when `rest` is set, any number of
 * columns the analysis does not know, each tainted by `rest`.
 */
interface Shape {
  cols: Col[];
  rest: Taint | null;
}

/** A relation in scope, by the name the query uses for it. */
interface Rel {
  alias: string;
  shape: Shape;
}

/** The relations of one query level and, for `*`, its FROM items in order. */
interface Level {
  rels: Rel[];
  items: Shape[];
}

type Ast = AstFields;

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function strings(nodes: unknown): string[] {
  return list(nodes).flatMap((n) => {
    const u = unwrap(n);
    return u && u[0] === 'String' ? [typeof u[1].sval === 'string' ? u[1].sval : ''] : [];
  });
}

function shapeTaint(s: Shape): Taint {
  let t = s.rest ?? CLEAN;
  for (const c of s.cols) t = union(t, c.taint);
  return t;
}

/** The shape under an alias's column names (`AS x(a, b)`): the first columns renamed. */
function renamed(s: Shape, alias: unknown): Shape {
  const names = isObject(alias) ? strings(alias.colnames) : [];
  if (names.length === 0) return s;
  const cols = s.cols.map((c, i) => (i < names.length ? { name: names[i], taint: c.taint } : c));
  for (let i = s.cols.length; i < names.length; i++) cols.push({ name: names[i], taint: s.rest ?? UNRESOLVED });
  return { cols, rest: s.rest };
}

function aliasName(alias: unknown): string | undefined {
  return isObject(alias) && typeof alias.aliasname === 'string' ? alias.aliasname : undefined;
}

/** Taint of a column looked up by name in one relation; undefined when the relation surely has no such column. */
function columnOf(rel: Rel, name: string): Taint | undefined {
  let found: Taint | undefined;
  for (const c of rel.shape.cols) if (c.name === name) found = union(found ?? CLEAN, c.taint);
  if (found) return found;
  return rel.shape.rest ?? undefined;
}

class Flow {
  private readonly searched = new Set<string>();
  private positional = false;
  private readonly written = new Set<string>();
  /** CTEs visible at the current point, innermost last. */
  private readonly ctes: Array<Map<string, Shape>> = [];

  constructor(
    private readonly ctx: DataFlowContext,
    private readonly viewDepth = 0,
  ) {}

  run(node: unknown): StatementFlow {
    const u = unwrap(node);
    let shape: Shape = { cols: [], rest: UNRESOLVED };
    if (u) shape = this.statement(u[0], u[1]);
    return {
      outputs: shape.cols.map((c) => [...c.taint]),
      rest: [...(shape.rest ?? CLEAN)],
      searched: [...this.searched],
      written: [...this.written],
      ...(this.positional ? { positional: true as const } : {}),
    };
  }

  /** The result a top-level statement sends. */
  private statement(type: string, body: Ast): Shape {
    switch (type) {
      case 'SelectStmt':
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        return this.query(type, body, []);
      case 'ExplainStmt':
      case 'DeclareCursorStmt':
      case 'PrepareStmt': {
        // Their query runs (or is planned) here, but its rows are not this result: only what it searches counts.
        const q = unwrap(body.query);
        if (q) this.statement(q[0], q[1]);
        return { cols: [], rest: CLEAN };
      }
      case 'CreateTableAsStmt': {
        const q = unwrap(body.query);
        if (q) this.write(shapeTaint(this.statement(q[0], q[1])));
        return { cols: [], rest: CLEAN };
      }
      case 'CopyStmt': {
        const q = unwrap(body.query);
        return q ? this.statement(q[0], q[1]) : { cols: [], rest: CLEAN };
      }
      case 'VariableShowStmt':
      case 'VariableSetStmt':
      case 'TransactionStmt':
        return { cols: [], rest: CLEAN };
      default:
        // FETCH, EXECUTE, CALL and anything else that may send rows it does not describe.
        return { cols: [], rest: UNRESOLVED };
    }
  }

  private write(t: Taint): void {
    for (const r of t) this.written.add(r);
  }

  private search(t: Taint): void {
    for (const r of t) this.searched.add(r);
  }

  /** A query (SELECT, or a data-modifying statement's RETURNING) seen from `outer` levels. */
  private query(type: string, body: Ast, outer: Level[]): Shape {
    return this.withClause(body.withClause, outer, () => {
      switch (type) {
        case 'SelectStmt':
          return this.select(body, outer);
        case 'InsertStmt':
          return this.insert(body, outer);
        case 'UpdateStmt':
          return this.update(body, outer);
        case 'DeleteStmt':
          return this.delete(body, outer);
        default:
          return this.merge(body, outer);
      }
    });
  }

  private subquery(node: unknown, outer: Level[]): Shape {
    const u = unwrap(node);
    if (!u) return { cols: [], rest: UNRESOLVED };
    if (['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt'].includes(u[0])) {
      return this.query(u[0], u[1], outer);
    }
    return { cols: [], rest: UNRESOLVED };
  }

  private withClause(w: unknown, outer: Level[], rest: () => Shape): Shape {
    if (!isObject(w)) return rest();
    const scope = new Map<string, Shape>();
    this.ctes.push(scope);
    try {
      for (const n of list(w.ctes)) {
        const u = unwrap(n);
        if (!u || u[0] !== 'CommonTableExpr') continue;
        const name = String(u[1].ctename ?? '');
        const query = u[1].ctequery;
        let shape: Shape;
        if (w.recursive === true) {
          // The recursive term sees the CTE itself: grow its taint until it stops changing.
          let current: Shape = { cols: [], rest: CLEAN };
          let stable = false;
          for (let i = 0; i < 6 && !stable; i++) {
            scope.set(name, renamed(current, { colnames: u[1].aliascolnames }));
            const next = this.subquery(query, outer);
            stable = sameShape(next, current);
            current = next;
          }
          shape = stable ? current : { cols: current.cols.map((c) => ({ ...c, taint: UNRESOLVED })), rest: UNRESOLVED };
        } else {
          shape = this.subquery(query, outer);
        }
        scope.set(name, renamed(shape, { colnames: u[1].aliascolnames }));
      }
      return rest();
    } finally {
      this.ctes.pop();
    }
  }

  private select(s: Ast, outer: Level[]): Shape {
    if (s.op && s.op !== 'SETOP_NONE') {
      const l = this.query('SelectStmt', isObject(s.larg) ? s.larg : {}, outer);
      const r = this.query('SelectStmt', isObject(s.rarg) ? s.rarg : {}, outer);
      const merged = mergeSetShapes(l, r);
      // INTERSECT, EXCEPT and UNION without ALL compare rows: how many come back says which values matched.
      if (s.op !== 'SETOP_UNION' || s.all !== true) this.search(shapeTaint(merged));
      const level: Level = { rels: [], items: [] };
      this.clauses(s, [level, ...outer], merged);
      return merged;
    }
    if (Array.isArray(s.valuesLists)) {
      const cols: Col[] = [];
      for (const row of s.valuesLists) {
        const items = list(unwrap(row)?.[1].items);
        items.forEach((e, i) => {
          const t = this.expr(e, outer);
          if (cols[i]) cols[i] = { name: cols[i].name, taint: union(cols[i].taint, t) };
          else cols[i] = { name: `column${i + 1}`, taint: t };
        });
      }
      return { cols, rest: null };
    }
    const level = this.from(list(s.fromClause), outer);
    const scopes = [level, ...outer];
    const shape = this.targets(list(s.targetList), scopes);
    this.clauses(s, scopes, shape);
    if (isObject(s.intoClause)) this.write(shapeTaint(shape));
    return shape;
  }

  /** WHERE, GROUP BY, HAVING, ORDER BY, DISTINCT ON, LIMIT, OFFSET, WINDOW: masked data there searches. */
  private clauses(s: Ast, scopes: Level[], output: Shape): void {
    if (s.whereClause) this.search(this.expr(s.whereClause, scopes));
    if (s.havingClause) this.search(this.expr(s.havingClause, scopes));
    for (const g of list(s.groupClause)) this.search(this.orderingExpr(g, scopes, output));
    for (const o of list(s.sortClause)) this.search(this.orderingExpr(o, scopes, output));
    for (const d of list(s.distinctClause)) if (unwrap(d)) this.search(this.orderingExpr(d, scopes, output));
    if (s.limitCount) this.search(this.expr(s.limitCount, scopes));
    if (s.limitOffset) this.search(this.expr(s.limitOffset, scopes));
    for (const w of list(s.windowClause)) this.search(this.expr(w, scopes));
  }

  /**
   * GROUP BY and ORDER BY items may name an output column (`ORDER BY s` for `ssn AS s`) or give
   * its position (`ORDER BY 1`); both are the output column's data.
   */
  private orderingExpr(node: unknown, scopes: Level[], output: Shape): Taint {
    const u = unwrap(node);
    const target = u && u[0] === 'SortBy' ? u[1].node : node;
    const t = unwrap(target);
    if (t && t[0] === 'A_Const' && isObject(t[1].ival)) {
      this.positional = true;
      const i = Number(t[1].ival.ival ?? 0) - 1;
      return output.cols[i]?.taint ?? output.rest ?? CLEAN;
    }
    if (t && t[0] === 'ColumnRef') {
      const f = list(t[1].fields);
      const only = f.length === 1 ? strings(f)[0] : undefined;
      if (only !== undefined) {
        let byOutput: Taint | undefined;
        for (const c of output.cols) if (c.name === only) byOutput = union(byOutput ?? CLEAN, c.taint);
        // Both could be meant (GROUP BY prefers the input column, ORDER BY the output one): count both.
        if (byOutput) return union(byOutput, this.columnRefOrClean(t[1], scopes));
      }
    }
    return this.expr(node, scopes);
  }

  private columnRefOrClean(ref: Ast, scopes: Level[]): Taint {
    const t = this.columnRef(ref, scopes);
    return t === UNRESOLVED ? CLEAN : t;
  }

  private targets(targets: unknown[], scopes: Level[]): Shape {
    const cols: Col[] = [];
    for (const n of targets) {
      const u = unwrap(n);
      if (!u || u[0] !== 'ResTarget') continue;
      const rt = u[1];
      const val = unwrap(rt.val);
      if (val && val[0] === 'ColumnRef') {
        const fields = list(val[1].fields);
        const star = fields.length > 0 && unwrap(fields[fields.length - 1])?.[0] === 'A_Star';
        if (star) {
          const expanded = this.star(strings(fields), scopes);
          cols.push(...expanded.cols);
          if (expanded.rest !== null) {
            // Columns of unknown number: every column from here on may be one of them.
            let rest = expanded.rest;
            for (const m of targets.slice(targets.indexOf(n) + 1)) rest = union(rest, this.targetTaint(m, scopes));
            return { cols, rest };
          }
          continue;
        }
      }
      const name = typeof rt.name === 'string' ? rt.name : this.outputName(rt.val);
      cols.push({ name, taint: this.expr(rt.val, scopes) });
    }
    return { cols, rest: null };
  }

  private targetTaint(n: unknown, scopes: Level[]): Taint {
    const u = unwrap(n);
    if (!u || u[0] !== 'ResTarget') return CLEAN;
    const val = unwrap(u[1].val);
    if (val && val[0] === 'ColumnRef') {
      const fields = list(val[1].fields);
      if (unwrap(fields[fields.length - 1])?.[0] === 'A_Star') return shapeTaint(this.star(strings(fields), scopes));
    }
    return this.expr(u[1].val, scopes);
  }

  private outputName(val: unknown): string {
    const u = unwrap(val);
    if (u && u[0] === 'ColumnRef') {
      const names = strings(u[1].fields);
      return names[names.length - 1] ?? '?column?';
    }
    if (u && u[0] === 'FuncCall') {
      const names = strings(u[1].funcname);
      return names[names.length - 1] ?? '?column?';
    }
    return '?column?';
  }

  /** `*` or `rel.*` in a target list. */
  private star(qualifier: string[], scopes: Level[]): Shape {
    const level = scopes[0];
    if (qualifier.length === 0) {
      const cols: Col[] = [];
      for (const item of level?.items ?? []) {
        cols.push(...item.cols);
        if (item.rest !== null) {
          const later = level.items
            .slice(level.items.indexOf(item) + 1)
            .reduce((t, s) => union(t, shapeTaint(s)), item.rest);
          return { cols, rest: later };
        }
      }
      return { cols, rest: null };
    }
    const rel = this.findRel(qualifier[qualifier.length - 1], scopes);
    return rel ? rel.shape : { cols: [], rest: UNRESOLVED };
  }

  private findRel(alias: string, scopes: Level[]): Rel | undefined {
    for (const level of scopes) {
      const found = level.rels.filter((r) => r.alias === alias);
      if (found.length === 1) return found[0];
      if (found.length > 1)
        return { alias, shape: { cols: [], rest: found.reduce((t, r) => union(t, shapeTaint(r.shape)), CLEAN) } };
    }
    return undefined;
  }

  /* ------------------------------------------------------------ FROM */

  private from(items: unknown[], outer: Level[]): Level {
    const level: Level = { rels: [], items: [] };
    for (const item of items) level.items.push(this.fromItem(item, level, outer));
    return level;
  }

  /** One FROM item: adds the relations it names to `level` and returns its columns in order. */
  private fromItem(node: unknown, level: Level, outer: Level[]): Shape {
    const u = unwrap(node);
    if (!u) return { cols: [], rest: UNRESOLVED };
    const [type, body] = u;
    switch (type) {
      case 'RangeVar': {
        const shape = renamed(this.relation(body), body.alias);
        level.rels.push({ alias: aliasName(body.alias) ?? String(body.relname ?? ''), shape });
        return shape;
      }
      case 'RangeSubselect': {
        // LATERAL subqueries see the FROM items before them.
        const scopes = body.lateral === true ? [level, ...outer] : outer;
        const shape = renamed(this.subquery(body.subquery, scopes), body.alias);
        const alias = aliasName(body.alias);
        if (alias !== undefined) level.rels.push({ alias, shape });
        return shape;
      }
      case 'RangeFunction': {
        // A set-returning function's columns carry what its arguments carry (unnest(array[ssn])).
        const scopes = [level, ...outer];
        let t: Taint = CLEAN;
        let fnName: string | undefined;
        for (const f of list(body.functions)) {
          for (const part of list(unwrap(f)?.[1].items)) {
            t = union(t, this.expr(part, scopes));
            const call = unwrap(part);
            if (fnName === undefined && call && call[0] === 'FuncCall') fnName = strings(call[1].funcname).pop();
          }
        }
        const names = [
          ...(isObject(body.alias) ? strings(body.alias.colnames) : []),
          ...list(body.coldeflist).flatMap((c) => {
            const cd = unwrap(c);
            return cd && typeof cd[1].colname === 'string' ? [cd[1].colname] : [];
          }),
        ];
        const alias = aliasName(body.alias);
        const cols = names.map((name) => ({ name, taint: t }));
        if (names.length === 0 && (alias ?? fnName)) cols.push({ name: alias ?? fnName ?? '', taint: t });
        const shape: Shape = { cols, rest: t };
        level.rels.push({ alias: alias ?? fnName ?? '', shape });
        return shape;
      }
      case 'JoinExpr': {
        const inner: Level = { rels: [], items: [] };
        const l = this.fromItem(body.larg, inner, outer);
        const r = this.fromItem(body.rarg, inner, outer);
        level.rels.push(...inner.rels);
        const scopes = [inner, ...outer];
        if (body.quals) this.search(this.expr(body.quals, scopes));
        let using = strings(body.usingClause);
        if (body.isNatural === true) {
          const right = new Set(r.cols.map((c) => c.name));
          using = l.cols.map((c) => c.name).filter((n) => right.has(n));
          // Unknown columns on either side may be joined on too.
          if (l.rest !== null || r.rest !== null) this.search(union(shapeTaint(l), shapeTaint(r)));
        }
        const merged: Col[] = [];
        for (const name of using) {
          const t = union(
            columnOf({ alias: '', shape: l }, name) ?? UNRESOLVED,
            columnOf({ alias: '', shape: r }, name) ?? UNRESOLVED,
          );
          this.search(t);
          merged.push({ name, taint: t });
        }
        const drop = new Set(using);
        const left = [...merged, ...l.cols.filter((c) => !drop.has(c.name))];
        const right = r.cols.filter((c) => !drop.has(c.name));
        // Unknown left columns come before the right ones: the right ones' places are unknown too.
        const shape: Shape =
          l.rest !== null
            ? { cols: left, rest: union(l.rest, shapeTaint(r)) }
            : { cols: [...left, ...right], rest: r.rest };
        const joinAlias = aliasName(body.alias);
        if (joinAlias !== undefined) level.rels.push({ alias: joinAlias, shape: renamed(shape, body.alias) });
        const usingAlias = aliasName(body.join_using_alias);
        if (usingAlias !== undefined) level.rels.push({ alias: usingAlias, shape: { cols: merged, rest: null } });
        return shape;
      }
      case 'RangeTableSample': {
        const inner = this.fromItem(body.relation, level, outer);
        this.search(this.generic({ args: body.args, repeatable: body.repeatable }, [level, ...outer]));
        return inner;
      }
      default: {
        // XMLTABLE, JSON_TABLE, ...: columns the analysis does not model, tainted by all they read.
        const t = this.generic(body, [level, ...outer]);
        const alias = aliasName(body.alias);
        const shape: Shape = { cols: [], rest: union(t, UNRESOLVED) };
        if (alias !== undefined) level.rels.push({ alias, shape });
        return shape;
      }
    }
  }

  /** A named relation: a CTE in scope, else every relation the name can stand for on the search path. */
  private relation(rv: Ast): Shape {
    const schema = typeof rv.schemaname === 'string' && rv.schemaname !== '' ? rv.schemaname : undefined;
    const name = String(rv.relname ?? '');
    if (schema === undefined) {
      for (let i = this.ctes.length - 1; i >= 0; i--) {
        const cte = this.ctes[i].get(name);
        if (cte) return cte;
      }
    }
    const candidates = tableCandidates(schema ? `${schema}.${name}` : name, this.ctx.searchPath);
    if (candidates.length === 0) return { cols: [], rest: UNRESOLVED };
    let shape: Shape | undefined;
    let unknown = false;
    const extra: Shape[] = [];
    for (const q of candidates) {
      const info = this.ctx.relations.relation(q);
      if (info === null) continue;
      if (info === undefined) {
        unknown = true;
        continue;
      }
      const s = this.relationShape(q, info);
      if (shape) extra.push(s);
      else shape = s;
    }
    // No such relation when the catalog was asked: the statement fails, or the relation was created
    // since (maybe earlier in the same text); either way nothing about it is known.
    if (!shape) return { cols: [], rest: UNRESOLVED };
    // Any candidate might be the one the server picks: each column carries what it carries in any of them.
    for (const other of extra) {
      shape = {
        cols: shape.cols.map((c, i) => ({
          name: c.name,
          taint: union(
            union(c.taint, other.cols[i]?.taint ?? CLEAN),
            columnOf({ alias: '', shape: other }, c.name) ?? CLEAN,
          ),
        })),
        rest:
          shape.rest === null && other.rest === null && other.cols.length <= shape.cols.length
            ? null
            : union(shape.rest ?? CLEAN, shapeTaint(other)),
      };
    }
    if (unknown)
      shape = { cols: shape.cols.map((c) => ({ name: c.name, taint: union(c.taint, UNRESOLVED) })), rest: UNRESOLVED };
    return shape;
  }

  private relationShape(qualified: string, info: RelationInfo): Shape {
    const dot = qualified.indexOf('.');
    const schema = qualified.slice(0, dot);
    const table = qualified.slice(dot + 1);
    const byName = (column: string): Taint => {
      const rules = [this.ctx.masked.columnRule(schema, table, column), this.ctx.masked.fieldRule(column)].filter(
        (r): r is string => r !== null,
      );
      return rules.length === 0 ? CLEAN : new Set(rules);
    };
    if (info.kind === 'table') return { cols: info.columns.map((name) => ({ name, taint: byName(name) })), rest: null };
    let def: Shape = { cols: [], rest: UNRESOLVED };
    if (info.definition !== undefined && this.viewDepth < VIEW_DEPTH) {
      // The view's query, as its own statement: what it searches is not this statement's search.
      const inner = new Flow({ ...this.ctx, searchPath: VIEW_SEARCH_PATH }, this.viewDepth + 1);
      const u = unwrap(info.definition);
      if (u && u[0] === 'SelectStmt') def = inner.query(u[0], u[1], []);
    }
    return {
      cols: info.columns.map((name, i) => ({
        name,
        taint: union(byName(name), def.cols[i]?.taint ?? def.rest ?? UNRESOLVED),
      })),
      rest: null,
    };
  }

  /* ------------------------------------------------------------ data-modifying statements */

  private target(rv: unknown, level: Level): Shape {
    if (!isObject(rv)) return { cols: [], rest: UNRESOLVED };
    const shape = this.relation(rv);
    level.rels.push({ alias: aliasName(rv.alias) ?? String(rv.relname ?? ''), shape });
    level.items.push(shape);
    return shape;
  }

  private returning(body: Ast, scopes: Level[]): Shape {
    const r = body.returningClause;
    if (!isObject(r)) return { cols: [], rest: null };
    return this.targets(list(r.exprs), scopes);
  }

  private insert(body: Ast, outer: Level[]): Shape {
    const source = body.selectStmt ? this.subquery(body.selectStmt, outer) : { cols: [], rest: null };
    this.write(shapeTaint(source));
    const level: Level = { rels: [], items: [] };
    this.target(body.relation, level);
    const scopes = [level, ...outer];
    const conflict = body.onConflictClause;
    if (isObject(conflict)) {
      // ON CONFLICT DO UPDATE sees the proposed row as "excluded".
      level.rels.push({ alias: 'excluded', shape: level.rels[0]?.shape ?? { cols: [], rest: UNRESOLVED } });
      for (const t of list(conflict.targetList)) this.write(this.generic(t, scopes));
      if (conflict.whereClause) this.search(this.expr(conflict.whereClause, scopes));
      if (isObject(conflict.infer)) this.search(this.generic(conflict.infer, scopes));
    }
    return this.returning(body, scopes);
  }

  private update(body: Ast, outer: Level[]): Shape {
    const level = this.from(list(body.fromClause), outer);
    this.target(body.relation, level);
    const scopes = [level, ...outer];
    for (const t of list(body.targetList)) this.write(this.generic(t, scopes));
    if (body.whereClause) this.search(this.expr(body.whereClause, scopes));
    return this.returning(body, scopes);
  }

  private delete(body: Ast, outer: Level[]): Shape {
    const level = this.from(list(body.usingClause), outer);
    this.target(body.relation, level);
    const scopes = [level, ...outer];
    if (body.whereClause) this.search(this.expr(body.whereClause, scopes));
    return this.returning(body, scopes);
  }

  private merge(body: Ast, outer: Level[]): Shape {
    const level: Level = { rels: [], items: [] };
    this.target(body.relation, level);
    this.fromItem(body.sourceRelation, level, outer);
    const scopes = [level, ...outer];
    if (body.joinCondition) this.search(this.expr(body.joinCondition, scopes));
    for (const w of list(body.mergeWhenClauses)) {
      const m = unwrap(w)?.[1];
      if (!m) continue;
      if (m.condition) this.search(this.expr(m.condition, scopes));
      this.write(this.generic({ targetList: m.targetList, values: m.values }, scopes));
    }
    return this.returning(body, scopes);
  }

  /* ------------------------------------------------------------ expressions */

  /** The taint of a value computed by an expression. */
  private expr(node: unknown, scopes: Level[]): Taint {
    const u = unwrap(node);
    if (!u) return Array.isArray(node) || isObject(node) ? this.generic(node, scopes) : CLEAN;
    const [type, body] = u;
    switch (type) {
      case 'ColumnRef':
        return this.columnRef(body, scopes);
      case 'A_Const':
      case 'ParamRef':
      case 'String':
      case 'Integer':
      case 'Float':
      case 'Boolean':
      case 'TypeName':
      case 'SQLValueFunction':
        return CLEAN;
      case 'SubLink': {
        const sub = shapeTaint(this.subquery(body.subselect, scopes));
        return union(sub, body.testexpr ? this.expr(body.testexpr, scopes) : CLEAN);
      }
      case 'SelectStmt':
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        return shapeTaint(this.query(type, body, scopes));
      case 'FuncCall': {
        const args = this.generic(
          { args: body.args, agg_order: body.agg_order, agg_filter: body.agg_filter, over: body.over },
          scopes,
        );
        const name = strings(body.funcname);
        // What a function keeps or sends elsewhere (a setting, a notification, a table) leaves unmasked.
        if (carriesArguments(name, this.viewDepth > 0)) this.write(args);
        return opaqueFunction(name, this.viewDepth > 0) ? union(args, UNRESOLVED) : args;
      }
      default:
        return this.generic(body, scopes);
    }
  }

  /** The union of the taints of every expression inside a node. */
  private generic(node: unknown, scopes: Level[]): Taint {
    let t: Taint = CLEAN;
    if (Array.isArray(node)) {
      for (const n of node) t = union(t, this.expr(n, scopes));
      return t;
    }
    if (!isObject(node)) return CLEAN;
    if (unwrap(node)) return this.expr(node, scopes);
    for (const key of Object.keys(node)) {
      const v = node[key];
      if (typeof v === 'object' && v !== null) t = union(t, this.expr(v, scopes));
    }
    return t;
  }

  /**
   * A column reference. Unqualified, it is resolved at the innermost query level that has a
   * column of that name; relations whose columns are not known may hold it at any level, so they
   * count too (fail closed). A name that is no column but a relation is the whole row
   * (`row_to_json(c)`, `c::text`).
   */
  private columnRef(ref: Ast, scopes: Level[]): Taint {
    const fields = list(ref.fields);
    const star = fields.length > 0 && unwrap(fields[fields.length - 1])?.[0] === 'A_Star';
    const names = strings(fields);
    if (star) return shapeTaint(this.star(names, scopes));
    if (names.length === 1) {
      const name = names[0];
      let t: Taint = CLEAN;
      let found = false;
      for (const level of scopes) {
        let definite = false;
        for (const rel of level.rels) {
          const c = columnOf(rel, name);
          if (c) {
            t = union(t, c);
            found = true;
          }
          if (rel.shape.cols.some((col) => col.name === name)) definite = true;
        }
        if (definite) return t;
      }
      const rel = this.findRel(name, scopes);
      if (rel) return union(t, shapeTaint(rel.shape));
      return found ? t : UNRESOLVED;
    }
    // rel.col, schema.rel.col, db.schema.rel.col: the relation is named by its last qualifier.
    const rel = this.findRel(names[names.length - 2], scopes);
    if (!rel) return UNRESOLVED;
    return columnOf(rel, names[names.length - 1]) ?? UNRESOLVED;
  }
}

/** pg_get_viewdef output is read with only the system catalog on the path: other names come qualified. */
export const VIEW_SEARCH_PATH: SearchPath = ['pg_catalog'];

/**
 * A function the gateway cannot see into: a user's (its body may read any table), or a built-in
 * that runs a query given as text or reads outside the database. Its result may hold anything.
 * Sequence functions write, but return numbers of their own.
 */
/**
 * Functions that keep or pass on their arguments beyond the statement's result: set_config (a
 * setting that SHOW and current_setting read back), pg_notify (a notification to any listener),
 * and every function the gateway does not know to be read-only (it may store them).
 */
function carriesArguments(parts: string[], inView: boolean): boolean {
  const base = parts[parts.length - 1];
  if ((parts.length === 1 || parts[0] === 'pg_catalog') && ['set_config', 'pg_notify', 'setval'].includes(base)) {
    return true;
  }
  return opaqueFunction(parts, inView);
}

function opaqueFunction(parts: string[], inView: boolean): boolean {
  // A view's definition is printed with only pg_catalog on the path: an unqualified function there is a
  // built-in, and the information_schema views call that schema's own helpers.
  const builtin = inView && (parts.length === 1 || (parts.length === 2 && parts[0] === 'information_schema'));
  const effect = functionEffect(builtin ? ['pg_catalog', parts[parts.length - 1]] : parts);
  if (effect === 'dangerous') return true;
  return effect === 'write' && !['nextval', 'setval'].includes(parts[parts.length - 1]);
}

function sameShape(a: Shape, b: Shape): boolean {
  if (a.cols.length !== b.cols.length || (a.rest === null) !== (b.rest === null)) return false;
  const same = (x: Taint, y: Taint) => x.size === y.size && [...x].every((r) => y.has(r));
  if (a.rest && b.rest && !same(a.rest, b.rest)) return false;
  return a.cols.every((c, i) => same(c.taint, b.cols[i].taint));
}

/** UNION, INTERSECT, EXCEPT: a column carries what the same column of either side carries. */
function mergeSetShapes(l: Shape, r: Shape): Shape {
  const n = Math.max(l.cols.length, r.cols.length);
  const cols: Col[] = [];
  for (let i = 0; i < n; i++) {
    cols.push({
      name: l.cols[i]?.name ?? r.cols[i]?.name ?? '?column?',
      taint: union(l.cols[i]?.taint ?? l.rest ?? CLEAN, r.cols[i]?.taint ?? r.rest ?? CLEAN),
    });
  }
  const rest = l.rest === null && r.rest === null ? null : union(l.rest ?? CLEAN, r.rest ?? CLEAN);
  return { cols, rest };
}

/** What one parsed statement (a `RawStmt.stmt` node) does with masked data. */
export function statementDataFlow(node: unknown, ctx: DataFlowContext): StatementFlow {
  return new Flow(ctx).run(node);
}

/**
 * Every relation a statement names, as the schema-qualified candidates the search path gives:
 * what the catalog must describe before {@link statementDataFlow} can follow the statement. CTE
 * names are included (a lookup that finds nothing costs nothing).
 */
export function referencedRelations(node: unknown, searchPath: SearchPath): string[] {
  const out = new Set<string>();
  const top = unwrap(node);
  if (!top) return [];
  // Only the statements the analysis follows, and only the relations they read or return from:
  // asking about a table a CREATE is about to make would record that it does not exist.
  let start: unknown;
  switch (top[0]) {
    case 'SelectStmt':
      start = { ...top[1], intoClause: undefined };
      break;
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      start = top[1];
      break;
    case 'ExplainStmt':
    case 'DeclareCursorStmt':
    case 'PrepareStmt':
    case 'CreateTableAsStmt':
    case 'CopyStmt':
      return top[1].query === undefined ? [] : referencedRelations(top[1].query, searchPath);
    default:
      return [];
  }
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    if (!isObject(v)) return;
    const u = unwrap(v);
    if (u && u[0] === 'RangeVar') {
      const rv = u[1];
      const schema = typeof rv.schemaname === 'string' && rv.schemaname !== '' ? `${rv.schemaname}.` : '';
      for (const q of tableCandidates(`${schema}${String(rv.relname ?? '')}`, searchPath)) out.add(q);
      return;
    }
    for (const key of Object.keys(u ? u[1] : v)) {
      const child = (u ? u[1] : v)[key];
      // Bare RangeVars (INSERT/UPDATE/DELETE targets) have no wrapper.
      if (isObject(child) && typeof child.relname === 'string' && !unwrap(child)) walk({ RangeVar: child });
      else walk(child);
    }
  };
  walk(start);
  return [...out];
}

/** The parse trees of a text's statements, or null when the text does not parse. */
export function parseStatements(sql: string): unknown[] | null {
  if (sql.includes('\0')) return null;
  try {
    return (parseSync(sql).stmts ?? []).map((s) => s.stmt);
  } catch {
    return null;
  }
}
