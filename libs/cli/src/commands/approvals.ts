import type { Command } from 'commander';
import type { ApprovalView, VoteView } from '@airlock/contracts';
import { Run, type CliIo } from '../context';
import { UsageError } from '../errors';
import { block, fields, table } from '../render';

const STATES = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'used'];

export function approvalsTable(list: ApprovalView[]): string {
  if (list.length === 0) return 'No approvals.\n';
  return table(list, [
    { header: 'ID', value: (a) => a.id },
    { header: 'STATE', value: (a) => a.state },
    { header: 'PRINCIPAL', value: (a) => a.principal.subject, max: 24 },
    { header: 'CONNECTION', value: (a) => a.connection },
    { header: 'VOTES', value: (a) => `${a.approvals.length}/${a.required}`, right: true },
    { header: 'EXPIRES', value: (a) => a.expiresAt },
    { header: 'OPERATION', value: (a) => a.detail, max: 50 },
  ]);
}

export function approvalText(a: ApprovalView): string {
  const vote = (v: VoteView) => `${v.approver.subject} at ${v.at}${v.comment ? `: ${v.comment}` : ''}`;
  return (
    fields([
      ['approval', a.id],
      ['state', a.state],
      [
        'requested by',
        `${a.principal.subject} (${a.principal.issuer}; groups ${a.principal.groups.join(', ') || 'none'})`,
      ],
      ['connection', `${a.connection} (${a.protocol})`],
      ['rule', a.ruleId ?? '-'],
      ['reason', a.reason],
      ['approvers', `${a.approverGroups.join(', ')}: ${a.required} needed`],
      ['votes', a.approvals.length > 0 ? a.approvals.map(vote).join('; ') : 'none yet'],
      ...(a.denial ? ([['denied by', vote(a.denial)]] as const) : []),
      ['grant', a.grantSeconds > 0 ? `${a.grantSeconds} s once approved` : 'one use'],
      ['created', a.createdAt],
      ['expires', a.expiresAt],
      ['session', a.sessionId],
    ]) +
    'operation:\n' +
    block(a.detail, '    ')
  );
}

function checkId(id: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError(`"${id.slice(0, 40)}" is not an approval id (a UUID)`);
  return id.toLowerCase();
}

export function registerApprovals(program: Command, io: CliIo): void {
  const group = program.command('approvals').description('operations held for a person to approve');

  group
    .command('ls')
    .description('approvals you may decide (administrators: all), newest first')
    .option('--state <state>', `one of ${STATES.join(', ')}`, 'pending')
    .action(async (o: { state: string }, cmd: Command) => {
      if (!STATES.includes(o.state)) throw new UsageError(`--state takes one of ${STATES.join(', ')}`);
      const run = new Run(io, cmd);
      const { body } = await run.client.call<{ approvals: ApprovalView[] }>(
        'approval',
        'GET',
        `/approvals?state=${o.state}`,
      );
      run.print(body, (b) => approvalsTable(b.approvals));
    });

  group
    .command('show <id>')
    .description('one approval, with the whole operation')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const run = new Run(io, cmd);
      const { body } = await run.client.call<ApprovalView>('approval', 'GET', `/approvals/${checkId(id)}`);
      run.print(body, approvalText);
    });

  for (const act of ['approve', 'deny'] as const) {
    group
      .command(`${act} <id>`)
      .description(act === 'approve' ? 'vote yes' : 'say no (one no denies)')
      .option('--comment <text>', 'why (kept with your vote)')
      .action(async (id: string, o: { comment?: string }, cmd: Command) => {
        const run = new Run(io, cmd);
        const { body } = await run.client.call<ApprovalView>('approval', 'POST', `/approvals/${checkId(id)}/${act}`, {
          body: o.comment ? { comment: o.comment } : {},
        });
        run.print(
          body,
          (a) =>
            `${act === 'approve' ? 'Approved' : 'Denied'}: approval ${a.id} is ${a.state} (${a.approvals.length} of ${a.required} approvals).\n`,
        );
      });
  }
}
