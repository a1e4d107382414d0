import type { Masker } from '@airlock/masking';
import {
  UNRESOLVED_RULE,
  parseStatements,
  referencedRelations,
  shapeOf,
  statementDataFlow,
  type MaskedColumns,
  type RelationSource,
  type SearchPath,
  type StatementFlow,
} from '@airlock/sql';
import type { FieldDescription } from '@airlock/pg-wire';
import { PgGatewayError, SqlState } from './pg-errors';

/**
 * How the masked columns of a policy flow through one query text (one or several statements):
 * which result columns carry masked data, and which statements use it to choose rows or copy it.
 */
export class TextMaskPlan {
  constructor(readonly statements: readonly StatementFlow[]) {}

  /** True when some statement reads a masked column anywhere: its server errors are then withheld. */
  get touchesMasked(): boolean {
    return this.statements.some(
      (s) => s.rest.length > 0 || s.searched.length > 0 || s.written.length > 0 || s.outputs.some((o) => o.length > 0),
    );
  }

  /** The rules of masked data that statements use to choose or order rows. */
  get searched(): string[] {
    return [...new Set(this.statements.flatMap((s) => s.searched))];
  }

  /** The rules of masked data that statements write into tables. */
  get written(): string[] {
    return [...new Set(this.statements.flatMap((s) => s.written))];
  }

  /**
   * The rule that masks each column of the `index`th result of the text (null: none by data flow).
   * A result the analysis does not line up with is masked whole.
   */
  resultRules(index: number, fields: readonly FieldDescription[]): Array<string | null> {
    const s = this.statements[index];
    if (!s) return fields.map(() => UNRESOLVED_RULE);
    // A statement whose result the analysis found free of masked data (SHOW, EXPLAIN): whatever its columns.
    if (s.outputs.length === 0 && s.rest.length === 0) return fields.map(() => null);
    if (s.rest.length === 0 && s.outputs.length !== fields.length) {
      // The server describes other columns than the analysis found: nothing can be matched by position.
      const any = s.outputs.find((o) => o.length > 0)?.[0];
      return fields.map(() => any ?? UNRESOLVED_RULE);
    }
    return fields.map((_, i) => (s.outputs[i] ?? s.rest)[0] ?? null);
  }
}

/** What the planner needs from the relation catalog. */
export interface RelationLookup {
  cached(names: readonly string[]): RelationSource | null;
  load(names: readonly string[]): Promise<RelationSource>;
  /** Changes whenever the catalog learns anything: plans made before may be out of date. */
  generation(): number;
  /** Drops what is known of this upstream's relations (after DDL). */
  forget(): void;
}

const UNKNOWN_RELATIONS: RelationSource = { relation: () => undefined };

interface CachedPlan {
  plan: TextMaskPlan;
  names: readonly string[];
  generation: number;
}

const PLAN_CACHE_LIMIT = 5000;
/** Plans by masker (one per set of policy masking rules), then by search path and text or shape. */
const plans = new WeakMap<Masker, Map<string, CachedPlan>>();

function maskedColumns(masker: Masker): MaskedColumns {
  return {
    columnRule: (schema, table, column) => masker.columnRuleFor(schema, table, column),
    fieldRule: (column) => masker.fieldRuleFor(column),
  };
}

function unresolvedPlan(): TextMaskPlan {
  return new TextMaskPlan([{ outputs: [], rest: [UNRESOLVED_RULE], searched: [UNRESOLVED_RULE], written: [] }]);
}

/** The parse trees of a text and the relations they name; null when nothing about it can be followed. */
function prepare(sql: string, searchPath: SearchPath): { stmts: unknown[]; names: string[] } | null {
  const stmts = parseStatements(sql);
  if (stmts === null) return null;
  try {
    return { stmts, names: [...new Set(stmts.flatMap((s) => referencedRelations(s, searchPath)))] };
  } catch {
    // A tree too deep to walk.
    return null;
  }
}

function analyse(stmts: unknown[], masker: Masker, searchPath: SearchPath, source: RelationSource): TextMaskPlan {
  const ctx = { masked: maskedColumns(masker), searchPath, relations: source };
  try {
    return new TextMaskPlan(stmts.map((s) => statementDataFlow(s, ctx)));
  } catch {
    return unresolvedPlan();
  }
}

/**
 * Plans a text's masking from its parse tree. Without a turn of the event loop when the catalog
 * already knows every relation it names; when the catalog cannot answer, every relation is
 * unknown and the plan masks (and refuses) accordingly.
 *
 * Plans are kept per text, and per shape (texts that differ only in numeric constants, see
 * shapeOf) once a sibling text of the shape plans the same: `pgbench -S`-style traffic is parsed
 * and analysed once. A kept plan is used only while the catalog has learnt nothing since.
 */
export function planText(
  sql: string,
  masker: Masker,
  searchPath: SearchPath,
  relations: RelationLookup,
  onCatalogError: (err: unknown) => void,
): TextMaskPlan | Promise<TextMaskPlan> {
  let byText = plans.get(masker);
  if (!byText) {
    byText = new Map();
    plans.set(masker, byText);
  }
  const cache = byText;
  const prefix = `${searchPath.join(',')}\0`;
  const generation = relations.generation();
  const usable = (hit: CachedPlan | undefined): hit is CachedPlan =>
    hit !== undefined && hit.generation === generation && relations.cached(hit.names) !== null;
  const exact = cache.get(prefix + sql);
  if (usable(exact)) return exact.plan;
  const shape = shapeOf(sql);
  const shapeKey = shape && shape.numbers > 0 ? prefix + shape.key : undefined;
  const byShape = shapeKey === undefined ? undefined : cache.get(shapeKey);
  if (usable(byShape)) return byShape.plan;

  const prepared = prepare(sql, searchPath);
  if (prepared === null) return unresolvedPlan();
  const { stmts, names } = prepared;
  // A statement after DDL in the same text runs on relations the catalog has not seen yet.
  if (changesRelationsBeforeUse(stmts)) return analyse(stmts, masker, searchPath, UNKNOWN_RELATIONS);
  const keep = (plan: TextMaskPlan, source: RelationSource, at: number): TextMaskPlan => {
    if (cache.size >= PLAN_CACHE_LIMIT) cache.clear();
    cache.set(prefix + sql, { plan, names, generation: at });
    if (shape && shapeKey && !plan.statements.some((st) => st.positional)) {
      const sibling = prepare(shape.sibling, searchPath);
      if (sibling && sameNames(sibling.names, names)) {
        const other = analyse(sibling.stmts, masker, searchPath, source);
        if (JSON.stringify(other.statements) === JSON.stringify(plan.statements)) {
          cache.set(shapeKey, { plan, names, generation: at });
        }
      }
    }
    return plan;
  };
  const known = names.length === 0 ? UNKNOWN_RELATIONS : relations.cached(names);
  if (known) return keep(analyse(stmts, masker, searchPath, known), known, generation);
  return relations.load(names).then(
    (source) => keep(analyse(stmts, masker, searchPath, source), source, relations.generation()),
    (err: unknown) => {
      onCatalogError(err);
      return analyse(stmts, masker, searchPath, UNKNOWN_RELATIONS);
    },
  );
}

/** Statements whose relations the analysis follows; anything else may create or change relations. */
const FOLLOWED = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'ExplainStmt',
  'DeclareCursorStmt',
  'PrepareStmt',
  'CopyStmt',
  'VariableShowStmt',
  'VariableSetStmt',
  'TransactionStmt',
  'FetchStmt',
  'ExecuteStmt',
  'ClosePortalStmt',
  'DeallocateStmt',
]);

function changesRelationsBeforeUse(stmts: unknown[]): boolean {
  let changed = false;
  for (const s of stmts) {
    const type = s !== null && typeof s === 'object' ? Object.keys(s)[0] : undefined;
    if (type !== undefined && FOLLOWED.has(type)) {
      if (changed) return true;
    } else {
      changed = true;
    }
  }
  return false;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((n, i) => n === b[i]);
}

/** How a masking rule is named to the client. */
function describeRule(rule: string): string {
  if (rule.startsWith('column:')) return `column ${rule.slice('column:'.length)}`;
  if (rule.startsWith('field:')) return `columns named ${rule.slice('field:'.length)}`;
  if (rule === UNRESOLVED_RULE) return 'a column the gateway could not resolve';
  return rule;
}

/**
 * The refusal of a statement that uses masked data other than to return it masked: searching it
 * (WHERE, JOIN, GROUP BY, HAVING, ORDER BY, ...) unless policy allows that, or copying it into a
 * table, which policy cannot allow.
 */
export function maskedUseRefusal(plan: TextMaskPlan, allowSearch: boolean): PgGatewayError | null {
  const written = plan.written;
  if (written.length > 0) {
    return new PgGatewayError(
      SqlState.InsufficientPrivilege,
      `refused: the statement writes masked data (${written.map(describeRule).join(', ')}) into a table`,
      'masking',
    );
  }
  const searched = plan.searched;
  if (searched.length > 0 && !allowSearch) {
    return new PgGatewayError(
      SqlState.InsufficientPrivilege,
      `refused: the statement uses masked ${searched.map(describeRule).join(', ')} in WHERE, JOIN, GROUP BY, HAVING, ORDER BY or another clause that chooses rows, which would reveal its values`,
      'masking',
      {
        hint: 'Masked columns can be returned (masked) but not searched; a policy rule can allow it with allowMaskedSearch.',
      },
    );
  }
  return null;
}
