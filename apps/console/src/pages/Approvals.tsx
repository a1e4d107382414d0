import { useState, type FormEvent } from 'react';
import type { PageProps } from '../App';
import { describeError } from '../api';
import { Link } from '../router';
import type { ApprovalState, ApprovalView } from '../types';
import { ErrorMessage, Notice, PageHeading, Time, relative, usePolling } from '../ui';

const STATES: ApprovalState[] = ['pending', 'approved', 'denied', 'expired', 'cancelled', 'used'];
const POLL_MS = 3000;

export function ApprovalsPage({ api, session, roles }: PageProps) {
  const [state, setState] = useState<ApprovalState>('pending');
  const list = usePolling(
    () => api.get<{ approvals: ApprovalView[] }>('approval', `/approvals?state=${state}`),
    POLL_MS,
    [state],
  );
  const approvals = list.data?.approvals ?? [];
  return (
    <>
      <PageHeading>Approvals</PageHeading>
      <p>
        Operations held for a person,{' '}
        {roles.approvalAdmin ? 'all of them (you administer approvals)' : 'those you may decide'}. The list refreshes
        every {POLL_MS / 1000} seconds.
      </p>
      <form className="inline" onSubmit={(e) => e.preventDefault()}>
        <label htmlFor="approval-state">Show</label>
        <select id="approval-state" value={state} onChange={(e) => setState(e.target.value as ApprovalState)}>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </form>
      <ErrorMessage error={list.error} />
      {list.loading ? (
        <p>Loading…</p>
      ) : approvals.length === 0 ? (
        <p data-testid="approvals-empty">No {state} approvals.</p>
      ) : (
        <ol className="cards" aria-label={`${state} approvals`}>
          {approvals.map((a) => (
            <li key={a.id}>
              <ApprovalCard approval={a} onDecided={list.refresh} {...{ api, session }} />
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

function who(p: { issuer: string; subject: string }): string {
  return `${p.subject} (${p.issuer})`;
}

function ApprovalCard({
  approval: a,
  api,
  session,
  onDecided,
}: { approval: ApprovalView; onDecided: () => void } & Pick<PageProps, 'api' | 'session'>) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string }>();
  const own = a.principal.subject === session.subject && a.principal.issuer === session.issuer;
  const headingId = `approval-${a.id}`;

  const decide = async (act: 'approve' | 'deny', event?: FormEvent): Promise<void> => {
    event?.preventDefault();
    setBusy(true);
    setOutcome(undefined);
    try {
      const after = await api.send<ApprovalView>('approval', 'POST', `/approvals/${a.id}/${act}`, {
        ...(comment.trim() ? { comment } : {}),
      });
      setOutcome({
        ok: true,
        text:
          after.state === 'pending'
            ? `Your ${act === 'approve' ? 'approval' : 'denial'} is recorded: ${after.approvals.length} of ${after.required} approvals so far.`
            : `Done: the approval is now ${after.state}.`,
      });
      setComment('');
      onDecided();
    } catch (err) {
      setOutcome({ ok: false, text: describeError(err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="card" aria-labelledby={headingId} data-approval-id={a.id}>
      <h2 id={headingId}>
        {a.protocol === 'postgres' ? 'SQL' : 'HTTP'} on <code>{a.connection}</code> by {a.principal.subject}
      </h2>
      <dl className="facts">
        <dt>State</dt>
        <dd data-testid="approval-state">{a.state}</dd>
        <dt>Requested by</dt>
        <dd>
          {who(a.principal)}
          {a.principal.groups?.length ? `, groups ${a.principal.groups.join(', ')}` : ''}
          {own ? ' — this is you' : ''}
        </dd>
        <dt>Connection</dt>
        <dd>
          {a.connection} ({a.protocol})
        </dd>
        <dt>Rule</dt>
        <dd>{a.ruleId ?? 'none (the default)'}</dd>
        <dt>Reason</dt>
        <dd>{a.reason}</dd>
        <dt>Approvers</dt>
        <dd>
          {a.required} of the groups {a.approverGroups.join(', ')}
          {a.grantSeconds > 0 ? `; once approved, the same operation is allowed for ${a.grantSeconds} s` : '; one-time'}
        </dd>
        <dt>Requested</dt>
        <dd>
          <Time at={a.createdAt} />
        </dd>
        <dt>Expires</dt>
        <dd>
          <Time at={a.expiresAt} /> ({relative(a.expiresAt)})
        </dd>
        <dt>Session</dt>
        <dd>
          <Link href={`/sessions/${a.sessionId}`}>{a.sessionId}</Link>
        </dd>
      </dl>
      <h3>The whole operation</h3>
      <pre className="operation" data-testid="approval-detail" tabIndex={0} aria-label="The operation to approve">
        {a.detail}
      </pre>
      <h3>Votes so far</h3>
      {a.approvals.length === 0 && !a.denial ? (
        <p>None yet ({a.required} needed).</p>
      ) : (
        <ul>
          {a.approvals.map((v) => (
            <li key={`${v.approver.issuer} ${v.approver.subject}`}>
              Approved by {who(v.approver)} at <Time at={v.at} />
              {v.comment ? `: “${v.comment}”` : ''}
            </li>
          ))}
          {a.denial && (
            <li>
              Denied by {who(a.denial.approver)} at <Time at={a.denial.at} />
              {a.denial.comment ? `: “${a.denial.comment}”` : ''}
            </li>
          )}
        </ul>
      )}
      {a.state === 'pending' && (
        <form onSubmit={(e) => void decide('approve', e)} aria-label={`Decide on ${a.id}`}>
          <p>
            <label htmlFor={`comment-${a.id}`}>Comment (optional)</label>
            <br />
            <textarea
              id={`comment-${a.id}`}
              value={comment}
              maxLength={2000}
              rows={2}
              onChange={(e) => setComment(e.target.value)}
            />
          </p>
          <p className="actions">
            <button type="submit" disabled={busy}>
              Approve
            </button>{' '}
            <button type="button" disabled={busy} onClick={() => void decide('deny')}>
              Deny
            </button>
          </p>
        </form>
      )}
      {outcome &&
        (outcome.ok ? (
          <Notice>{outcome.text}</Notice>
        ) : (
          <p role="alert" className="error">
            {outcome.text}
          </p>
        ))}
    </article>
  );
}
