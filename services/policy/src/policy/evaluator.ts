import type {
  Decision,
  HttpOperation,
  PolicyDecision,
  PolicyEvaluateRequest,
  PostgresOperation,
  Principal,
  SqlClass,
  SqlRisk,
  SqlStatement,
} from '@airlock/contracts';
import { compileNamePattern, compilePathPattern, globMatch } from './glob';
import type { PolicyDocument, PolicyRule, ValueMatch } from './policy-document';

const STRICTNESS: Record<Decision, number> = { allow: 0, review: 1, deny: 2 };

interface CompiledSql {
  classes?: Set<SqlClass>;
  commands?: Set<string>;
  tables?: RegExp[];
  functions?: RegExp[];
  risks?: SqlRisk[];
  unparsed: boolean;
  params?: RegExp;
}

/** A query or header criterion; `folded`: the name (headers) and the value pattern in lower case. */
interface CompiledValueMatch {
  name: string;
  present: boolean;
  value?: string;
  folded?: string;
}

interface CompiledS3 {
  operations?: Set<string>;
  buckets?: string[];
  keys?: RegExp[];
  keysFolded?: RegExp[];
}

interface CompiledRule {
  rule: PolicyRule;
  paths: RegExp[];
  /** The same patterns, case-blind: how deny and review rules match unless the upstream tells case apart. */
  pathsFolded: RegExp[];
  methods: Set<string>;
  query?: CompiledValueMatch[];
  headers?: CompiledValueMatch[];
  s3?: CompiledS3;
  sql?: CompiledSql;
}

/** What evaluating an HTTP operation looked at, beyond the operation's identity. */
interface HttpProbe {
  headersTested: boolean;
}

/** The rule that decided one statement (undefined: none matched, the default denies). */
interface StatementVerdict {
  winner: CompiledRule | undefined;
  /** What the default-deny reason names. */
  what: string;
}

/**
 * Evaluates requests against one policy document. Every matching rule counts and the strictest
 * effect wins (deny over review over allow); with no matching rule the answer is deny.
 * A PostgreSQL operation is decided statement by statement (docs/policy-sql.md).
 */
export class PolicyEvaluator {
  private readonly compiled: CompiledRule[];

  constructor(readonly document: PolicyDocument) {
    this.compiled = document.rules.map((rule) => {
      const paths = (rule.http?.paths ?? ['/**']).map(compilePathPattern);
      return {
        rule,
        paths,
        pathsFolded: paths.map((p) => new RegExp(p.source, 'i')),
        methods: new Set(rule.http?.methods ?? ['*']),
        query: rule.http?.query?.map((m) => compileValueMatch(m, false)),
        headers: rule.http?.headers?.map((m) => compileValueMatch(m, true)),
        s3: rule.http?.s3 && compileS3(rule.http.s3),
        sql: rule.sql && compileSql(rule.sql),
      };
    });
  }

  evaluate(req: PolicyEvaluateRequest): PolicyDecision {
    const op = req.operation;
    if (op.kind === 'connect') return this.evaluateConnect(req);
    return op.kind === 'http' ? this.evaluateHttp(req, op) : this.evaluatePostgres(req, op);
  }

  /**
   * May the principal open a session on the connection at all? Yes when some allow or review
   * rule of the protocol applies to it there (whatever the rule's operation criteria: they are
   * judged per operation later), unless a deny rule with no operation criteria applies too.
   */
  private evaluateConnect(req: PolicyEvaluateRequest): PolicyDecision {
    const base = { requestId: req.requestId, policyVersion: this.document.version, masking: [] };
    const applying = this.compiled.filter(
      (c) => this.appliesTo(c, req) && !(req.protocol === 'http' ? c.rule.sql : c.rule.http),
    );
    const deny = applying.find((c) => c.rule.effect === 'deny' && !c.rule.http && !c.rule.sql);
    const admit = applying.find((c) => c.rule.effect !== 'deny');
    if (deny || !admit) {
      return {
        ...base,
        decision: 'deny',
        reason: deny ? ruleReason(deny.rule) : `no rule lets ${req.principal.subject} use connection ${req.connection}`,
        ...(deny ? { ruleId: deny.rule.id } : {}),
      };
    }
    return { ...base, decision: 'allow', reason: ruleReason(admit.rule), ruleId: admit.rule.id };
  }

  private evaluateHttp(req: PolicyEvaluateRequest, op: HttpOperation): PolicyDecision {
    const probe: HttpProbe = { headersTested: false };
    const base = { requestId: req.requestId, policyVersion: this.document.version };
    let winner = this.httpWinner(req, op, probe);
    let reasonPrefix = '';
    let noRule = `no rule allows ${op.method} ${op.path} on connection ${req.connection}`;
    // A copy reads its source: both the copy and a GetObject of the source must be allowed.
    const source = op.s3?.copySource;
    if (source && winner) {
      const read = copySourceRead(op, source);
      const readWinner = this.httpWinner(req, read, probe);
      if (!readWinner || STRICTNESS[readWinner.rule.effect] > STRICTNESS[winner.rule.effect]) {
        winner = readWinner;
        reasonPrefix = `copy source ${source.bucket}/${source.key}: `;
        noRule = `no rule allows reading the copy source ${source.bucket}/${source.key} on connection ${req.connection}`;
      }
    }
    const depends = probe.headersTested ? { dependsOnHeaders: true } : {};
    if (!winner) return { ...base, decision: 'deny', reason: noRule, masking: [], ...depends };
    const { rule } = winner;
    return {
      ...base,
      decision: rule.effect,
      reason: `${reasonPrefix}${ruleReason(rule)}`,
      ruleId: rule.id,
      masking: rule.effect === 'deny' ? [] : rule.masking,
      ...depends,
      ...approvalOf(rule),
    };
  }

  private httpWinner(req: PolicyEvaluateRequest, op: HttpOperation, probe: HttpProbe): CompiledRule | undefined {
    let winner: CompiledRule | undefined;
    for (const c of this.compiled) {
      if (c.rule.sql || !this.appliesTo(c, req) || !httpMatches(c, op, probe)) continue;
      if (!winner || STRICTNESS[c.rule.effect] > STRICTNESS[winner.rule.effect]) winner = c;
    }
    return winner;
  }

  private evaluatePostgres(req: PolicyEvaluateRequest, op: PostgresOperation): PolicyDecision {
    const base = { requestId: req.requestId, policyVersion: this.document.version };
    const candidates = this.compiled.filter((c) => !c.rule.http && this.appliesTo(c, req));
    const probe = { paramsTested: false };

    if (op.parsed && op.statements.length === 0) return { ...base, ...this.emptyQuery(candidates, req.connection) };

    const verdicts: StatementVerdict[] = op.parsed
      ? op.statements.map((s) => ({
          winner: strictest(candidates.filter((c) => statementMatches(c, s, op, probe))),
          what: `no rule allows ${s.command} on connection ${req.connection}`,
        }))
      : [
          {
            // Only rules written for unparsed text apply: anything else would guess at what it does.
            winner: strictest(candidates.filter((c) => c.sql?.unparsed && paramsMatch(c.sql, op, probe))),
            what: 'statement could not be parsed; refused',
          },
        ];

    let deciding = verdicts[0];
    for (const v of verdicts) if (stricter(v, deciding)) deciding = v;
    const decision = effectOf(deciding);
    const masking = decision === 'deny' ? [] : [...new Set(verdicts.flatMap((v) => v.winner?.rule.masking ?? []))];
    const common = {
      ...base,
      decision,
      masking,
      dependsOnParams: probe.paramsTested,
      auditLiterals: verdicts.every((v) => v.winner?.rule.auditLiterals === true),
      // Every statement's deciding rule must allow it: one rule cannot allow it for another's statement.
      ...(verdicts.every((v) => v.winner?.rule.allowMaskedSearch === true) ? { allowMaskedSearch: true } : {}),
    };
    if (!deciding.winner) return { ...common, reason: deciding.what };
    return {
      ...common,
      reason: ruleReason(deciding.winner.rule),
      ruleId: deciding.winner.rule.id,
      ...approvalOf(deciding.winner.rule),
    };
  }

  /**
   * An empty query (only blanks or comments) does nothing, so any rule that lets this principal
   * do anything on the connection admits it, whatever its sql criteria.
   */
  private emptyQuery(
    candidates: CompiledRule[],
    connection: string,
  ): Omit<PolicyDecision, 'requestId' | 'policyVersion'> {
    const allow = candidates.find((c) => c.rule.effect === 'allow');
    if (!allow) {
      return {
        decision: 'deny',
        reason: `no rule allows any statement on connection ${connection}`,
        masking: [],
        dependsOnParams: false,
        auditLiterals: false,
      };
    }
    return {
      decision: 'allow',
      reason: ruleReason(allow.rule),
      ruleId: allow.rule.id,
      masking: [],
      dependsOnParams: false,
      auditLiterals: allow.rule.auditLiterals === true,
    };
  }

  private appliesTo(c: CompiledRule, req: PolicyEvaluateRequest): boolean {
    const { rule } = c;
    if (!rule.connections.includes('*') && !rule.connections.includes(req.connection)) return false;
    if (rule.principals && !rule.principals.some((m) => principalMatches(m, req.principal))) return false;
    return true;
  }
}

/** A review decision carries how it is to be approved, when its rule says. */
function approvalOf(rule: PolicyRule): Pick<PolicyDecision, 'approval'> {
  return rule.effect === 'review' && rule.approval ? { approval: rule.approval } : {};
}

function compileSql(sql: NonNullable<PolicyRule['sql']>): CompiledSql {
  return {
    classes: sql.classes && new Set(sql.classes),
    commands: sql.commands && new Set(sql.commands),
    // The ingress names every table schema-qualified; a pattern without a schema means public.
    tables: sql.tables?.map((t) => compileNamePattern(t.includes('.') ? t : `public.${t}`)),
    functions: sql.functions?.map(compileNamePattern),
    risks: sql.risks,
    unparsed: sql.unparsed === true,
    params: sql.params === undefined ? undefined : new RegExp(sql.params),
  };
}

/**
 * An allow matches exactly what it names; a deny or a review also matches the same path in
 * another case, unless the connection declares that its upstream tells case apart.
 */
function httpMatches(c: CompiledRule, op: HttpOperation, probe: HttpProbe): boolean {
  if (!c.methods.has('*') && !c.methods.has(op.method)) return false;
  const exact = c.rule.effect === 'allow' || op.caseSensitive === true;
  const paths = exact ? c.paths : c.pathsFolded;
  if (!paths.some((p) => p.test(op.path))) return false;
  if (c.s3 && !s3Matches(c.s3, op, exact, c.rule.effect === 'allow')) return false;
  const every = c.rule.effect === 'allow';
  if (c.query && !c.query.every((m) => valueMatches(m, valuesOf(op.query ?? [], m.name), every))) return false;
  if (c.headers) {
    // Last, so that a decision depends on headers only when they could have changed it.
    probe.headersTested = true;
    const headers = op.headers ?? {};
    return c.headers.every((m) => {
      const v = headers[m.name];
      return valueMatches(m, v === undefined ? [] : [v], every);
    });
  }
  return true;
}

function valuesOf(query: NonNullable<HttpOperation['query']>, name: string): Array<string | undefined> {
  const out: Array<string | undefined> = [];
  for (const p of query) if (p.name === name) out.push(p.value);
  return out;
}

/**
 * A criterion on the values a parameter or header has: absent ones fail `present`; with a value
 * pattern an allow needs every value to match, a deny or review any (compared case-blind).
 */
function valueMatches(m: CompiledValueMatch, values: Array<string | undefined>, every: boolean): boolean {
  if (!m.present) return values.length === 0;
  if (values.length === 0) return false;
  if (m.value === undefined) return true;
  const test = (v: string | undefined): boolean =>
    every ? globMatch(m.value!, v ?? '') : globMatch(m.folded!, (v ?? '').toLowerCase());
  return every ? values.every(test) : values.some(test);
}

function compileValueMatch(m: ValueMatch, header: boolean): CompiledValueMatch {
  return {
    name: header ? m.name.toLowerCase() : m.name,
    present: m.present !== false,
    ...(m.value === undefined ? {} : { value: m.value, folded: m.value.toLowerCase() }),
  };
}

function compileS3(s3: NonNullable<NonNullable<PolicyRule['http']>['s3']>): CompiledS3 {
  const keys = s3.keys?.map(compilePathPattern);
  return {
    operations: s3.operations && new Set(s3.operations),
    buckets: s3.buckets,
    keys,
    keysFolded: keys?.map((k) => new RegExp(k.source, 'i')),
  };
}

/**
 * A rule with s3 criteria matches S3 operations only. When the operation names no key (a bucket
 * operation, or DeleteObjects whose keys are in its body) a keys criterion holds for a deny or a
 * review, never for an allow: what it touches is not known.
 */
function s3Matches(c: CompiledS3, op: HttpOperation, exact: boolean, allow: boolean): boolean {
  const s3 = op.s3;
  if (!s3) return false;
  if (c.operations && !c.operations.has(s3.operation)) return false;
  if (c.buckets) {
    if (s3.bucket === undefined) return !allow;
    const bucket = exact ? s3.bucket : s3.bucket.toLowerCase();
    if (!c.buckets.some((b) => globMatch(exact ? b : b.toLowerCase(), bucket))) return false;
  }
  if (c.keys) {
    if (s3.key === undefined) return !allow;
    const patterns = exact ? c.keys : c.keysFolded!;
    if (!patterns.some((k) => k.test(s3.key!))) return false;
  }
  return true;
}

/**
 * A path segment in the ingress's canonical form for S3: unreserved characters, sub-delimiters,
 * ":", "@" and ";" as they are, everything else percent-encoded in upper case.
 */
function pathSegment(s: string): string {
  return encodeURIComponent(s).replace(/%(24|26|2B|2C|3A|3B|3D|40)/g, (_m, h: string) =>
    String.fromCharCode(parseInt(h, 16)),
  );
}

/** The read of a copy source, as policy judges it: a GetObject of that object. */
function copySourceRead(
  op: HttpOperation,
  source: NonNullable<NonNullable<HttpOperation['s3']>['copySource']>,
): HttpOperation {
  const key = source.key.split('/').map(pathSegment).join('/');
  return {
    kind: 'http',
    method: 'GET',
    path: `/${pathSegment(source.bucket)}/${key}`,
    ...(source.versionId === undefined ? {} : { query: [{ name: 'versionId', value: source.versionId }] }),
    ...(op.caseSensitive === undefined ? {} : { caseSensitive: op.caseSensitive }),
    s3: { operation: 'GetObject', bucket: source.bucket, key: source.key },
  };
}

function statementMatches(
  c: CompiledRule,
  s: SqlStatement,
  op: PostgresOperation,
  probe: { paramsTested: boolean },
): boolean {
  const sql = c.sql;
  if (!sql) return true;
  if (sql.unparsed) return false;
  if (sql.classes && !sql.classes.has(s.class)) return false;
  if (sql.commands && !sql.commands.has(s.command)) return false;
  if (sql.risks && !sql.risks.some((r) => s.risks.includes(r))) return false;
  // An allow must cover everything the statement touches; a deny or review needs only one hit.
  const every = c.rule.effect === 'allow';
  if (sql.tables && !namesMatch(sql.tables, s.tables, every, true)) return false;
  if (sql.functions && !namesMatch(sql.functions, s.functions, every, false)) return false;
  // Last, so that dependsOnParams is set only when the values could have changed the outcome.
  return paramsMatch(sql, op, probe);
}

function namesMatch(patterns: RegExp[], names: string[], every: boolean, tables: boolean): boolean {
  const matches = (name: string): boolean =>
    patterns.some((p) => p.test(name) || (tables && !name.includes('.') && p.test(`public.${name}`)));
  return every ? names.every(matches) : names.some(matches);
}

function paramsMatch(sql: CompiledSql, op: PostgresOperation, probe: { paramsTested: boolean }): boolean {
  if (!sql.params) return true;
  // Also without values yet (a Parse before its Bind): the decision must not be reused for values.
  if ((op.params?.length ?? 0) > 0 || op.paramCount > 0) probe.paramsTested = true;
  const re = sql.params;
  return (op.params ?? []).some((v) => v !== null && re.test(v));
}

/** The strictest rule of a list; among equally strict ones the first, as for HTTP. */
function strictest(rules: CompiledRule[]): CompiledRule | undefined {
  let winner: CompiledRule | undefined;
  for (const c of rules) if (!winner || STRICTNESS[c.rule.effect] > STRICTNESS[winner.rule.effect]) winner = c;
  return winner;
}

function effectOf(v: StatementVerdict): Decision {
  return v.winner?.rule.effect ?? 'deny';
}

function stricter(a: StatementVerdict, b: StatementVerdict): boolean {
  return STRICTNESS[effectOf(a)] > STRICTNESS[effectOf(b)];
}

function ruleReason(rule: PolicyRule): string {
  return rule.description ? `${rule.id}: ${rule.description}` : `rule ${rule.id}`;
}

function principalMatches(m: NonNullable<PolicyRule['principals']>[number], p: Principal): boolean {
  if (m.issuer !== undefined && m.issuer !== p.issuer) return false;
  if (m.subjects && !m.subjects.includes(p.subject)) return false;
  if (m.groups && !m.groups.some((g) => p.groups.includes(g))) return false;
  return true;
}
