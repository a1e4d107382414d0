import {
  VIEW_DEPTH,
  VIEW_SEARCH_PATH,
  parseStatements,
  referencedRelations,
  type RelationInfo,
  type RelationSource,
} from '@airlock/sql';
import type { ActiveLease } from '../credentials/lease.client';
import type { ColumnCatalog } from './column-catalog';

interface Cached {
  /** null: no relation of that name. */
  info: RelationInfo | null;
  /** For views: the relations their definition names. */
  uses: string[];
  expiresAt: number;
}

const TTL_MS = 5 * 60_000;
/** A name found to stand for no relation is asked again soon: it may be created (a stale answer masks more, never less). */
const MISSING_TTL_MS = 5_000;
const MAX_RELATIONS = 10_000;
/** Relation kinds whose rows come from a query: views and materialized views. */
const VIEW_KINDS = new Set(['v', 'm']);

interface Row {
  nspname: string;
  relname: string;
  relkind: string;
  def: string | null;
  cols: string[];
}

/**
 * The columns, kind and (for views) definition of relations by `schema.name`, from the upstream's
 * catalog over the gateway's side connection: what the masking analysis needs to follow `*`,
 * whole-row references, unqualified columns and views. Answers are cached for a while, like the
 * column origins; a view's definition brings the relations it names along.
 */
export class RelationCatalog {
  private readonly relations = new Map<string, Cached>();
  private learnt = 0;

  /** Changes whenever an answer from the catalog is stored. */
  get generation(): number {
    return this.learnt;
  }

  constructor(
    private readonly side: Pick<ColumnCatalog, 'sideQuery'>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The relations from the cache alone, or null when one of them (or of the views they use) is not cached. */
  cached(lease: ActiveLease, names: readonly string[]): RelationSource | null {
    return this.missing(lease, names).length === 0 ? this.source(lease) : null;
  }

  /** Drops everything known of one upstream connection's relations: DDL may have changed any of them. */
  forget(lease: ActiveLease): void {
    const prefix = `${lease.connection}:`;
    for (const key of this.relations.keys()) if (key.startsWith(prefix)) this.relations.delete(key);
    this.learnt++;
  }

  /** Loads what the cache lacks (views' relations too, to a depth), then answers from the cache. */
  async load(lease: ActiveLease, names: readonly string[]): Promise<RelationSource> {
    for (let depth = 0; depth <= VIEW_DEPTH; depth++) {
      const missing = this.missing(lease, names);
      if (missing.length === 0) break;
      await this.fetch(lease, missing);
    }
    return this.source(lease);
  }

  private source(lease: ActiveLease): RelationSource {
    const now = this.now();
    return {
      relation: (q) => {
        const c = this.relations.get(`${lease.connection}:${q}`);
        return c && c.expiresAt > now ? c.info : undefined;
      },
    };
  }

  /** Names, and names used by the views among them, that are not cached. */
  private missing(lease: ActiveLease, names: readonly string[]): string[] {
    const now = this.now();
    const out: string[] = [];
    const seen = new Set<string>();
    let level = [...names];
    for (let depth = 0; depth <= VIEW_DEPTH && level.length > 0; depth++) {
      const next: string[] = [];
      for (const q of level) {
        if (seen.has(q)) continue;
        seen.add(q);
        const c = this.relations.get(`${lease.connection}:${q}`);
        if (!c || c.expiresAt <= now) out.push(q);
        else next.push(...c.uses);
      }
      level = next;
    }
    return out;
  }

  private async fetch(lease: ActiveLease, names: string[]): Promise<void> {
    const schemas: string[] = [];
    const rels: string[] = [];
    for (const q of names) {
      const dot = q.indexOf('.');
      schemas.push(q.slice(0, dot));
      rels.push(q.slice(dot + 1));
    }
    const rows = await this.side.sideQuery<Row>(
      lease,
      `SELECT n.nspname, c.relname, c.relkind::text AS relkind,
              CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS def,
              ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
                     WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                     ORDER BY a.attnum) AS cols
         FROM pg_catalog.pg_class c
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE (n.nspname, c.relname) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [schemas, rels],
    );
    const now = this.now();
    const expiresAt = now + TTL_MS;
    const found = new Map<string, Cached>();
    for (const r of rows) {
      const q = `${r.nspname}.${r.relname}`;
      if (!VIEW_KINDS.has(r.relkind)) {
        found.set(q, { info: { kind: 'table', columns: r.cols }, uses: [], expiresAt });
        continue;
      }
      const definition = r.def === null ? undefined : viewTree(r.def);
      found.set(q, {
        info: { kind: 'view', columns: r.cols, definition },
        uses: definition === undefined ? [] : referencedRelations(definition, VIEW_SEARCH_PATH),
        expiresAt,
      });
    }
    this.learnt++;
    for (const q of names) {
      if (this.relations.size >= MAX_RELATIONS) this.relations.clear();
      this.relations.set(
        `${lease.connection}:${q}`,
        found.get(q) ?? { info: null, uses: [], expiresAt: now + MISSING_TTL_MS },
      );
    }
  }
}

/** The parse tree of a view's query; undefined when it cannot be had (the view is then masked whole). */
function viewTree(def: string): unknown {
  return parseStatements(def)?.[0];
}
