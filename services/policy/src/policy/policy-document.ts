import { createHash } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ApprovalRulesSchema, DecisionSchema, SqlClassSchema, SqlRiskSchema } from '@airlock/contracts';
import { resolveMaskingRules } from '@airlock/masking';
import { resolveSqlCommand } from '@airlock/sql';

const PrincipalMatchSchema = z
  .object({
    issuer: z.string().min(1).optional(),
    subjects: z.array(z.string().min(1)).min(1).optional(),
    /** Any of these groups. */
    groups: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

/** A query parameter or header: present (the default), absent, or with a value matching a `*` pattern. */
const ValueMatchSchema = z
  .object({
    name: z.string().min(1).max(1024),
    present: z.boolean().optional(),
    value: z.string().max(8192).optional(),
  })
  .strict()
  .refine((m) => !(m.present === false && m.value !== undefined), {
    message: 'a value pattern cannot be combined with present: false',
  });
export type ValueMatch = z.infer<typeof ValueMatchSchema>;

const S3MatchSchema = z
  .object({
    /** S3 API actions: GetObject, PutObject, DeleteObjects, CopyObject, ..., Unknown. */
    operations: z
      .array(z.string().regex(/^[A-Za-z0-9]{1,64}$/))
      .min(1)
      .optional(),
    /** Bucket name patterns: `*` for any characters. */
    buckets: z.array(z.string().min(1)).min(1).optional(),
    /** Key patterns: `*` within one "/"-separated part, `**` across parts. */
    keys: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();

const HttpMatchSchema = z
  .object({
    methods: z
      .array(z.string().regex(/^([A-Z]{1,16}|\*)$/))
      .min(1)
      .default(['*']),
    paths: z.array(z.string().regex(/^\//, 'path patterns start with /')).min(1).default(['/**']),
    /** Every one of these must hold on the query parameters (docs/policy-http.md). */
    query: z.array(ValueMatchSchema).min(1).optional(),
    /** Every one of these must hold on the forwarded request headers (names lower case). */
    headers: z.array(ValueMatchSchema).min(1).optional(),
    /** On S3 connections: the S3 operation, bucket and key. */
    s3: S3MatchSchema.optional(),
  })
  .strict();
export type HttpMatch = z.infer<typeof HttpMatchSchema>;

/** One of `values`; anything else is an error that names the value and every valid one. */
function oneOf<T extends string>(what: string, values: readonly T[]): z.ZodType<T> {
  return z.custom<T>((v) => typeof v === 'string' && (values as readonly string[]).includes(v), {
    error: (issue) => `unknown ${what} ${JSON.stringify(issue.input)}: expected one of ${values.join(', ')}`,
  });
}

/**
 * Command names as the classifier gives them (libs/sql SQL_COMMANDS), or the leading words of
 * exactly one of them (TRUNCATE for TRUNCATE TABLE), which stand for it. A name that matches no
 * statement would make its rule silently match nothing: it is an error instead.
 */
const SqlCommandsSchema = z
  .array(z.string().regex(/^[A-Z]+( [A-Z]+)*$/, 'SQL commands are upper case, e.g. SELECT or DROP TABLE'))
  .min(1)
  .transform((names, ctx) => {
    const commands: string[] = [];
    for (const name of names) {
      const r = resolveSqlCommand(name);
      if ('error' in r) ctx.issues.push({ code: 'custom', message: r.error, input: name });
      else if (!commands.includes(r.command)) commands.push(r.command);
    }
    return commands;
  });

/** Criteria on each SQL statement of a PostgreSQL operation; docs/policy-sql.md gives their semantics. */
const SqlMatchSchema = z
  .object({
    classes: z.array(oneOf('SQL class', SqlClassSchema.options)).min(1).optional(),
    commands: SqlCommandsSchema.optional(),
    /** Glob patterns: `*` within one part of a dotted name. */
    tables: z.array(z.string().min(1)).min(1).optional(),
    functions: z.array(z.string().min(1)).min(1).optional(),
    /** Any of these. */
    risks: z.array(oneOf('SQL risk', SqlRiskSchema.options)).min(1).optional(),
    /** The rule applies only to texts the parser could not parse. */
    unparsed: z.boolean().optional(),
    /** JavaScript regular expression source, tested against each bind parameter value. */
    params: z.string().min(1).optional(),
  })
  .strict();
export type SqlMatch = z.infer<typeof SqlMatchSchema>;

const RuleSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    description: z.string().optional(),
    effect: DecisionSchema,
    /** Connection names, or "*" for every connection. */
    connections: z.array(z.string().min(1)).min(1),
    /** Any of these; omitted means any authenticated principal. */
    principals: z.array(PrincipalMatchSchema).min(1).optional(),
    http: HttpMatchSchema.optional(),
    sql: SqlMatchSchema.optional(),
    masking: z.array(z.string()).default([]),
    /** The audit trail may keep the statement text with its literals (PostgreSQL rules only). */
    auditLiterals: z.boolean().optional(),
    /** Statements may use masked columns in WHERE, JOIN, GROUP BY, HAVING, ORDER BY (PostgreSQL rules only). */
    allowMaskedSearch: z.boolean().optional(),
    /** For `review` rules: who approves, how many must, how long a request waits, and any grant window. */
    approval: ApprovalRulesSchema.strict().optional(),
  })
  .strict();
export type PolicyRule = z.infer<typeof RuleSchema>;

export const PolicyDocumentSchema = z
  .object({
    id: z.string().min(1).default('default'),
    /** Explicit version; when absent the version is derived from the document's content. */
    version: z.string().min(1).optional(),
    rules: z.array(RuleSchema),
  })
  .strict()
  .superRefine((doc, ctx) => {
    const seen = new Set<string>();
    for (const r of doc.rules) {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', message: `duplicate rule id ${r.id}` });
      seen.add(r.id);
      for (const problem of ruleProblems(r)) ctx.addIssue({ code: 'custom', message: `rule ${r.id}: ${problem}` });
      // A masking rule the gateway would not know is an error now, not a refused request later.
      try {
        resolveMaskingRules(r.masking.filter((m) => m !== 'block-binary'));
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `rule ${r.id}: ${(err as Error).message}` });
      }
    }
  });

/** Combinations the schema alone lets through but that could only mean a mistake. */
function ruleProblems(r: PolicyRule): string[] {
  const problems: string[] = [];
  if (r.http && r.sql) problems.push('a rule matches either HTTP (http) or SQL (sql), not both');
  if (r.http && r.auditLiterals !== undefined) problems.push('auditLiterals applies to SQL rules only');
  if (r.http && r.allowMaskedSearch !== undefined) problems.push('allowMaskedSearch applies to SQL rules only');
  if (r.approval && r.effect !== 'review') problems.push('approval applies to rules whose effect is review');
  const sql = r.sql;
  if (sql?.unparsed) {
    const statementCriteria = (['classes', 'commands', 'tables', 'functions', 'risks'] as const).filter(
      (k) => sql[k] !== undefined,
    );
    // An unparsed text has no statements, so such a criterion could never hold.
    if (statementCriteria.length > 0)
      problems.push(`sql.unparsed cannot be combined with ${statementCriteria.join(', ')}`);
  }
  if (sql?.params !== undefined) {
    try {
      new RegExp(sql.params);
    } catch (err) {
      problems.push(`sql.params is not a valid regular expression: ${(err as Error).message}`);
    }
  }
  return problems;
}

export interface PolicyDocument {
  id: string;
  version: string;
  rules: PolicyRule[];
}

export class PolicyDocumentError extends Error {}

/** Every problem of a policy document's text, one sentence each, or the document. */
export type PolicyDocumentCheck =
  | { ok: true; document: PolicyDocument }
  | { ok: false; errors: string[]; message: string };

/** Parses and validates a YAML policy document without throwing: what `validate` and loading share. */
export function checkPolicyDocument(text: string): PolicyDocumentCheck {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const message = `policy is not valid YAML: ${(err as Error).message}`;
    return { ok: false, errors: [message], message };
  }
  const r = PolicyDocumentSchema.safeParse(raw);
  if (!r.success) {
    const errors = r.error.issues.map((i) => {
      const at = i.path.map(String).join('.');
      return at ? `${at}: ${i.message}` : i.message;
    });
    return { ok: false, errors, message: `policy is invalid: ${z.prettifyError(r.error).replace(/\n/g, '; ')}` };
  }
  const version = r.data.version ?? `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  return { ok: true, document: { id: r.data.id, version, rules: r.data.rules } };
}

/** Parses and validates a YAML policy document; any problem is an error, never a partial policy. */
export function parsePolicyDocument(text: string): PolicyDocument {
  const checked = checkPolicyDocument(text);
  if (!checked.ok) throw new PolicyDocumentError(checked.message);
  return checked.document;
}
