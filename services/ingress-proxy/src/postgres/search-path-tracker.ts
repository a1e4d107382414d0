import type { SqlStatement } from '@airlock/contracts';
import {
  parseSearchPath,
  qualifyTables,
  type Classification,
  type SearchPath,
  type SearchPathEffect,
} from '@airlock/sql';

/** What the gateway asks the server, when it is idle, to learn the path it really has. */
export const SEARCH_PATH_PROBE = "SELECT pg_catalog.current_setting('search_path'), CURRENT_USER::pg_catalog.text";

/** A search_path change the gateway cannot follow (a computed value, a text it cannot read). */
export class UntrackedSearchPathError extends Error {}

/**
 * The search_path of one upstream session, as the set of values it may have: the value the server
 * last reported, plus every value a statement sent since may set. While a statement is in flight
 * the gateway cannot know whether it succeeded, was rolled back or was only LOCAL, so it keeps
 * every possibility, and tables are qualified under all of them. When the session is idle the
 * gateway asks the server (SEARCH_PATH_PROBE) and the set narrows to the server's answer.
 */
export class SearchPathTracker {
  private possible: SearchPath[];
  /** Values sent since the probe in flight was sent: the probe's answer does not include them. */
  private sinceProbe: SearchPath[] | null = null;
  private changed = false;

  constructor(
    private readonly startup: SearchPath,
    private readonly user: string,
  ) {
    this.possible = [startup];
  }

  /**
   * The paths a statement with these effects runs under: everything possible now, and whatever
   * the same text sets before it. Throws UntrackedSearchPathError for a change it cannot follow.
   */
  pathsFor(effects: readonly SearchPathEffect[] | undefined): SearchPath[] {
    if (!effects || effects.length === 0) return this.possible;
    return union(
      this.possible,
      effects.map((e) => this.valueOf(e)),
    );
  }

  /** A statement with these effects went upstream. */
  sent(effects: readonly SearchPathEffect[] | undefined): void {
    if (!effects || effects.length === 0) return;
    const values = effects.map((e) => this.valueOf(e));
    this.possible = union(this.possible, values);
    if (this.sinceProbe) this.sinceProbe.push(...values);
    this.changed = true;
  }

  /** True when the set may be wider than the server's value and no probe is out. */
  get wantsProbe(): boolean {
    return this.changed && this.sinceProbe === null;
  }

  probeSent(): void {
    this.sinceProbe = [];
    this.changed = false;
  }

  /** The probe's answer (null when it failed): the server's value now, plus what was sent since. */
  probeAnswered(answer: { setting: string; user: string } | null): void {
    const since = this.sinceProbe ?? [];
    this.sinceProbe = null;
    const value = answer ? parseSearchPath(answer.setting, answer.user) : null;
    // No answer: the set stays as wide as it is (never narrower than the truth), asked again after the next change.
    if (!value) return;
    this.possible = union([value], since);
    if (since.length > 0) this.changed = true;
  }

  /** For tests and diagnostics. */
  get values(): readonly SearchPath[] {
    return this.possible;
  }

  private valueOf(e: SearchPathEffect): SearchPath {
    switch (e.kind) {
      case 'set':
        // The server reads "$user" as the role's own schema, quoted or not.
        return e.schemas.map((s) => (s === '$user' ? this.user : s));
      case 'text': {
        const v = parseSearchPath(e.text, this.user);
        if (!v) throw new UntrackedSearchPathError('search_path set to a text the gateway cannot read');
        return v;
      }
      case 'reset':
        return this.startup;
      case 'untracked':
        throw new UntrackedSearchPathError('search_path set to a value only known when the statement runs');
    }
  }
}

/**
 * One path holding every schema of several, in order: an unqualified name looked up in it has
 * every candidate it has under any of them (what masking needs: any candidate counts).
 */
export function everySchema(paths: readonly SearchPath[]): SearchPath {
  if (paths.length === 1) return paths[0];
  const out: string[] = [];
  for (const p of paths) for (const s of p) if (!out.includes(s)) out.push(s);
  return out;
}

/** Keys of sets of paths: made once per set (the tracker keeps its set until something changes). */
const keys = new WeakMap<readonly SearchPath[], string>();

function pathsKey(paths: readonly SearchPath[]): string {
  let key = keys.get(paths);
  if (key === undefined) {
    key = JSON.stringify(paths);
    keys.set(paths, key);
  }
  return key;
}

function union(base: readonly SearchPath[], more: readonly SearchPath[]): SearchPath[] {
  const out = [...base];
  for (const v of more) if (!out.some((o) => sameList(o, v))) out.push(v);
  return out;
}

function sameList(a: SearchPath, b: SearchPath): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}

/** Qualified statement lists per classification and set of paths: shared objects, so their cache keys are made once. */
const qualified = new WeakMap<Classification, Map<string, SqlStatement[]>>();

/**
 * The statements of a classification with every table name replaced by the schema-qualified
 * names it can stand for under any of the paths.
 */
export function qualifiedStatements(c: Classification, paths: readonly SearchPath[]): SqlStatement[] {
  if (!c.parsed) return [];
  if (c.statements.every((s) => s.tables.length === 0)) return c.statements;
  const key = pathsKey(paths);
  let byPaths = qualified.get(c);
  if (!byPaths) {
    byPaths = new Map();
    qualified.set(c, byPaths);
  }
  let out = byPaths.get(key);
  if (!out) {
    out = c.statements.map((s) => {
      if (s.tables.length === 0) return s;
      const tables = new Set<string>();
      for (const p of paths) for (const t of qualifyTables(s.tables, p)) tables.add(t);
      return Object.freeze({ ...s, tables: Object.freeze([...tables]) as string[] });
    });
    Object.freeze(out);
    if (byPaths.size >= 16) byPaths.clear();
    byPaths.set(key, out);
  }
  return out;
}
