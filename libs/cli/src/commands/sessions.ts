import type { Command } from 'commander';
import type { OperationSummary, SessionSummary } from '@airlock/contracts';
import { Run, type CliIo } from '../context';
import { UsageError } from '../errors';
import { fields, table } from '../render';
import { eventLine, parseTime } from './audit';

export function sessionsTable(items: SessionSummary[]): string {
  if (items.length === 0) return 'No sessions.\n';
  return table(items, [
    { header: 'SESSION', value: (s) => s.sessionId },
    { header: 'STARTED', value: (s) => s.startedAt },
    { header: 'PRINCIPAL', value: (s) => s.principal?.subject ?? null, max: 24 },
    { header: 'CONNECTION', value: (s) => s.connection },
    { header: 'PROTO', value: (s) => s.protocol },
    { header: 'OPS', value: (s) => s.operations, right: true },
    { header: 'ALLOW', value: (s) => s.decisions.allow, right: true },
    { header: 'DENY', value: (s) => s.decisions.deny, right: true },
    { header: 'HELD', value: (s) => s.decisions.review, right: true },
    { header: 'MASKED', value: (s) => s.masked, right: true },
  ]);
}

function checkSessionId(id: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`"${id.slice(0, 40)}" is not a session id (a UUID)`);
  return id.toLowerCase();
}

interface ReplayedEvent {
  chain: number;
  seq: number;
  event: { id: string; type: string; time: string; actor: { subject: string } | null; connection: string | null };
  summary: OperationSummary | null;
}

/** The gist of an event's summary: the operation, the decision and why, the outcome. */
export function gist(s: OperationSummary | null): string {
  if (!s) return '';
  const parts: string[] = [];
  if (s.method) parts.push(`${s.method} ${s.path ?? ''}`);
  if (s.sql) parts.push(s.sql);
  if (s.command) parts.push(s.command);
  if (s.decision) parts.push(`${s.decision}${s.ruleId ? ` by ${s.ruleId}` : ''}`);
  if (s.reason && !s.decision) parts.push(s.reason);
  if (s.status !== undefined) parts.push(`status ${s.status}`);
  if (s.rows !== undefined) parts.push(`${s.rows} rows`);
  if (s.maskedTotal !== undefined && s.maskedTotal > 0) parts.push(`${s.maskedTotal} masked`);
  return parts.join(' · ');
}

export function registerSessions(program: Command, io: CliIo): void {
  const group = program.command('sessions').description('recorded sessions: search and replay (auditors)');

  group
    .command('ls')
    .description('sessions that started in a time range, newest first, filtered')
    .option('--principal <subject>', 'only this subject (sub)')
    .option('--issuer <iss>', 'with --principal: only of this issuer')
    .option('--connection <name>', 'only this connection')
    .option('--protocol <protocol>', 'http or postgres')
    .option('--decision <decision>', 'allow, deny, review (held) or approved: at least one such')
    .option('--masked', 'only sessions where values were masked')
    .option('--unmasked', 'only sessions where nothing was masked')
    .option('--from <time>', 'started at or after (RFC 3339 or a duration ago; default 24h)')
    .option('--to <time>', 'started before (default now)')
    .option('--limit <n>', 'sessions per page (1-200)', '50')
    .option('--cursor <cursor>', 'the next page, as a previous listing gave it')
    .action(
      async (
        o: {
          principal?: string;
          issuer?: string;
          connection?: string;
          protocol?: string;
          decision?: string;
          masked?: boolean;
          unmasked?: boolean;
          from?: string;
          to?: string;
          limit: string;
          cursor?: string;
        },
        cmd: Command,
      ) => {
        if (o.masked && o.unmasked) throw new UsageError('give --masked or --unmasked, not both');
        if (!/^\d+$/.test(o.limit)) throw new UsageError('--limit takes a number');
        const now = Date.now();
        const q = new URLSearchParams();
        for (const k of ['principal', 'issuer', 'connection', 'protocol', 'decision', 'cursor'] as const) {
          if (o[k] !== undefined) q.set(k, o[k]);
        }
        if (o.masked) q.set('hasMasking', 'true');
        if (o.unmasked) q.set('hasMasking', 'false');
        if (o.from) q.set('from', parseTime(o.from, now));
        if (o.to) q.set('to', parseTime(o.to, now));
        q.set('limit', o.limit);
        const run = new Run(io, cmd);
        const { body } = await run.client.call<{ items: SessionSummary[]; nextCursor: string | null }>(
          'recorder',
          'GET',
          `/audit/sessions?${q}`,
        );
        run.print(body, (p) => sessionsTable(p.items) + (p.nextCursor ? `More: add --cursor ${p.nextCursor}\n` : ''));
      },
    );

  group
    .command('show <sessionId>')
    .description("one session's summary")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const run = new Run(io, cmd);
      const { body } = await run.client.call<SessionSummary>(
        'recorder',
        'GET',
        `/audit/sessions/${checkSessionId(id)}`,
      );
      run.print(body, (s) =>
        fields([
          ['session', s.sessionId],
          ['principal', s.principal ? `${s.principal.subject} (${s.principal.issuer})` : null],
          ['connection', `${s.connection ?? '-'} (${s.protocol})`],
          ['started', s.startedAt],
          ['last event', s.endedAt],
          ['events', s.events],
          ['operations', s.operations],
          [
            'decisions',
            `${s.decisions.allow} allowed, ${s.decisions.deny} denied, ${s.decisions.review} held, ${s.decisions.approved ?? 0} approved`,
          ],
          ['values masked', s.masked],
        ]),
      );
    });

  group
    .command('replay <sessionId>')
    .description("a session's events in the order they were recorded (--json: one stored event per line)")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const run = new Run(io, cmd);
      const sessionId = checkSessionId(id);
      let cursor: string | null = null;
      do {
        const q = new URLSearchParams({ limit: '500', ...(cursor ? { cursor } : {}) });
        const answer: { body: { items: ReplayedEvent[]; nextCursor: string | null } } = await run.client.call(
          'recorder',
          'GET',
          `/audit/sessions/${sessionId}/events?${q}`,
        );
        for (const e of answer.body.items) {
          io.out(
            run.json
              ? `${JSON.stringify(e)}\n`
              : `${String(e.seq).padStart(6)}  ${eventLine(e.event, gist(e.summary))}`,
          );
        }
        cursor = answer.body.nextCursor;
      } while (cursor);
    });
}
