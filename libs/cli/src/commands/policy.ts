import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Run, type CliIo } from '../context';
import { CliError, ExitCode, UsageError } from '../errors';
import { block, fields, table } from '../render';

type Decision = 'allow' | 'deny' | 'review';

interface DryRunView {
  policy: { id: string; version: string };
  decision: Decision;
  reason: string;
  ruleId: string | null;
  masking: string[];
  approval: { approverGroups: string[]; required: number; expiresInSeconds: number; grantSeconds?: number } | null;
  operation: {
    kind: string;
    statements?: Array<{ command: string; class: string; tables: string[]; risks: string[] }>;
  };
}

type ValidateView = { valid: true; id: string; version: string; rules: number } | { valid: false; errors: string[] };

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, ExitCode.Usage);
  }
}

/** `GET /items?x=1` → method, path and query. */
export function parseRequestLine(line: string): { method: string; path: string; query?: string } {
  const m = /^\s*([A-Za-z]{1,16})\s+(\/\S*)\s*$/.exec(line);
  if (!m) throw new UsageError('--http takes "METHOD /path?query", e.g. "GET /items?limit=5"');
  const [path, ...rest] = m[2].split('?');
  return { method: m[1].toUpperCase(), path, ...(rest.length > 0 ? { query: rest.join('?') } : {}) };
}

/** `name: value` → a header. */
export function parseHeader(h: string): [string, string] {
  const i = h.indexOf(':');
  if (i <= 0) throw new UsageError(`--header takes "name: value", got "${h.slice(0, 40)}"`);
  return [h.slice(0, i).trim().toLowerCase(), h.slice(i + 1).trim()];
}

function dryRunText(d: DryRunView): string {
  let out = fields([
    ['decision', d.decision],
    ['reason', d.reason],
    ['rule', d.ruleId ?? '(none: the default)'],
    ['masking', d.masking.length > 0 ? d.masking.join(', ') : 'none'],
    ['policy', `${d.policy.id} ${d.policy.version}`],
  ]);
  if (d.approval) {
    out += fields([
      ['approvers', d.approval.approverGroups.join(', ')],
      ['approvals needed', d.approval.required],
      ['expires after', `${d.approval.expiresInSeconds} s`],
    ]);
  }
  const statements = d.operation.statements ?? [];
  if (statements.length > 0) {
    out +=
      '\n' +
      table(statements, [
        { header: 'COMMAND', value: (s) => s.command },
        { header: 'CLASS', value: (s) => s.class },
        { header: 'TABLES', value: (s) => s.tables.join(', ') || '-' },
        { header: 'RISKS', value: (s) => s.risks.join(', ') || '-' },
      ]);
  }
  return out;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerPolicy(program: Command, io: CliIo): void {
  const group = program.command('policy').description('the policy in force: show, check, try out, reload');

  group
    .command('show')
    .description('the policy in force, with its rules (policy administrators)')
    .action(async (_o: unknown, cmd: Command) => {
      const run = new Run(io, cmd);
      const { body } = await run.client.call<{ id: string; version: string; rules: Array<Record<string, unknown>> }>(
        'policy',
        'GET',
        '/policy/document',
      );
      run.print(
        body,
        (d) =>
          `Policy ${d.id}, version ${d.version}, ${d.rules.length} rules\n` +
          table(d.rules, [
            { header: 'RULE', value: (r) => r.id },
            { header: 'EFFECT', value: (r) => r.effect },
            { header: 'CONNECTIONS', value: (r) => (r.connections as string[] | undefined)?.join(', '), max: 30 },
            { header: 'DESCRIPTION', value: (r) => r.description, max: 50 },
          ]),
      );
    });

  group
    .command('validate <file>')
    .description('check a policy document (YAML) against the policy service; nothing is applied')
    .action(async (file: string, _o: unknown, cmd: Command) => {
      const run = new Run(io, cmd);
      const { body } = await run.client.call<ValidateView>('policy', 'POST', '/policy/validate', {
        body: { document: readText(file) },
      });
      run.print(body, (v) =>
        v.valid
          ? `${file}: valid (policy ${v.id}, version ${v.version}, ${v.rules} rules)\n`
          : `${file}: invalid\n${v.errors.map((e) => `  - ${e}`).join('\n')}\n`,
      );
      if (!body.valid) io.setExit(ExitCode.Failure);
    });

  group
    .command('test')
    .description('dry run: what the policy in force decides for this principal, connection and statement or request')
    .requiredOption('--principal <subject>', 'the subject (sub) of the token')
    .option('--issuer <iss>', 'the issuer of the token')
    .option('--group <group>', 'a group of the token (repeat for more)', collect)
    .requiredOption('--connection <name>', 'the connection')
    .option('--sql <statement>', 'a PostgreSQL statement')
    .option('--sql-file <path>', 'a PostgreSQL statement, read from a file')
    .option('--param <value>', 'a bind parameter value, $1 first (repeat for more)', collect)
    .option('--search-path <schemas>', 'the session search_path, comma-separated (default public)')
    .option('--http <request>', 'an HTTP request line: "METHOD /path?query"')
    .option('--header <header>', 'an HTTP request header "name: value" (repeat for more)', collect)
    .option('--expect <decision>', 'exit 0 when the decision is this (allow, deny or review), 1 otherwise')
    .action(
      async (
        o: {
          principal: string;
          issuer?: string;
          group?: string[];
          connection: string;
          sql?: string;
          sqlFile?: string;
          param?: string[];
          searchPath?: string;
          http?: string;
          header?: string[];
          expect?: string;
        },
        cmd: Command,
      ) => {
        const sql = o.sqlFile !== undefined ? readText(o.sqlFile) : o.sql;
        if ((sql === undefined) === (o.http === undefined)) {
          throw new UsageError('give exactly one of --sql, --sql-file or --http');
        }
        if (o.sql !== undefined && o.sqlFile !== undefined) throw new UsageError('give --sql or --sql-file, not both');
        if (o.expect !== undefined && !['allow', 'deny', 'review'].includes(o.expect)) {
          throw new UsageError('--expect takes allow, deny or review');
        }
        if (o.http !== undefined && (o.param || o.searchPath)) {
          throw new UsageError('--param and --search-path go with --sql');
        }
        if (sql !== undefined && o.header) throw new UsageError('--header goes with --http');
        const run = new Run(io, cmd);
        const request = {
          principal: { subject: o.principal, ...(o.issuer ? { issuer: o.issuer } : {}), groups: o.group ?? [] },
          connection: o.connection,
          ...(sql !== undefined
            ? {
                sql,
                ...(o.param ? { params: o.param } : {}),
                ...(o.searchPath ? { searchPath: o.searchPath.split(',').map((s) => s.trim()) } : {}),
              }
            : {
                http: {
                  ...parseRequestLine(o.http!),
                  ...(o.header ? { headers: Object.fromEntries(o.header.map(parseHeader)) } : {}),
                },
              }),
        };
        const { body } = await run.client.call<DryRunView>('policy', 'POST', '/policy/dry-run', { body: request });
        run.print(body, dryRunText);
        const ok = o.expect !== undefined ? body.decision === o.expect : body.decision === 'allow';
        if (!ok) io.setExit(ExitCode.Failure);
      },
    );

  group
    .command('reload')
    .description('make the policy service read its policy file again')
    .action(async (_o: unknown, cmd: Command) => {
      const run = new Run(io, cmd);
      const { status, body } = await run.client.call<{
        id: string;
        version: string;
        rules: number;
        changed: boolean;
        message?: string;
      }>('policy', 'POST', '/policy/reload', { accept: [422] });
      if (status === 422) {
        run.print(
          body,
          (b) => `The policy file was refused; the policy in force is unchanged.\n${block(b.message ?? '')}`,
        );
        io.setExit(ExitCode.Failure);
        return;
      }
      run.print(body, (b) =>
        b.changed
          ? `Reloaded: policy ${b.id} version ${b.version} (${b.rules} rules) is in force.\n`
          : `Unchanged: version ${b.version} is already in force.\n`,
      );
    });
}
