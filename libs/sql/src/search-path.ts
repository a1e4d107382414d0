/**
 * How PostgreSQL resolves an unqualified relation name, as far as the gateway can follow it
 * without asking the server: the schemas of the session's `search_path`, in order, with the
 * system catalog searched first unless the path names it.
 *
 * The answer is a list of candidates, not one name: policy must hold for every schema the server
 * could pick (an allow must cover them all, a deny needs one), so a schema that does not exist
 * costs strictness, never a bypass. The session's temporary schema is left out on purpose: it
 * holds only what the session itself created, through the same policy.
 */

/** A search path: schema names as the server compares them (unquoted ones lower-cased). */
export type SearchPath = readonly string[];

/** The default of a session that names none. */
export const DEFAULT_SEARCH_PATH: SearchPath = ['public'];

/**
 * Every relation in `pg_catalog` is named `pg_*`, and users cannot add to that schema, so the
 * implicit catalog search can only find names of that form.
 */
function inCatalog(name: string): boolean {
  return name.startsWith('pg_');
}

/**
 * The schema-qualified names (`schema.name`, lower case) an unqualified or qualified relation
 * name can stand for. A `catalog.schema.name` is reduced to `schema.name`: the server accepts a
 * catalog part only when it names the current database.
 */
export function tableCandidates(name: string, searchPath: SearchPath): string[] {
  const parts = name.split('.');
  if (parts.length >= 2) return [parts.slice(-2).join('.')];
  const out: string[] = [];
  const schemas = searchPath.filter((s) => s !== 'pg_temp' && !s.startsWith('pg_temp_'));
  if (inCatalog(name) && !schemas.includes('pg_catalog')) out.push(`pg_catalog.${name}`);
  for (const s of schemas) {
    if (s === 'pg_catalog' && !inCatalog(name)) continue;
    const q = `${s}.${name}`;
    if (!out.includes(q)) out.push(q);
  }
  return out;
}

/** The candidates of every name of a list, each once, in order. */
export function qualifyTables(names: readonly string[], searchPath: SearchPath): string[] {
  const out = new Set<string>();
  for (const n of names) for (const q of tableCandidates(n, searchPath)) out.add(q);
  return [...out];
}

/**
 * Parses a `search_path` setting as the server prints it or a client writes it: comma-separated
 * identifiers, double-quoted ones kept as written, others lower-cased; `$user` replaced by the
 * role name given. Null when the text is not a list of identifiers.
 */
export function parseSearchPath(text: string, user: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  skipSpace();
  if (i === text.length) return [];
  for (;;) {
    skipSpace();
    let ident: string;
    if (text[i] === '"') {
      let j = i + 1;
      let v = '';
      for (;;) {
        if (j >= text.length) return null;
        if (text[j] === '"') {
          if (text[j + 1] === '"') {
            v += '"';
            j += 2;
            continue;
          }
          break;
        }
        v += text[j++];
      }
      i = j + 1;
      ident = v;
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && !/\s/.test(text[j])) j++;
      ident = text.slice(i, j).toLowerCase();
      if (ident.length === 0 || ident.includes('"')) return null;
      i = j;
    }
    out.push(ident === '$user' ? user : ident);
    skipSpace();
    if (i === text.length) return out;
    if (text[i] !== ',') return null;
    i++;
  }
}
