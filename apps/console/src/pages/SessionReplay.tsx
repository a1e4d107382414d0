import type { ReactNode } from 'react';
import type { PageProps } from '../App';
import { Link } from '../router';
import { ApiError } from '../api';
import type { ReplayedEvent, SessionSummary } from '../types';
import { ErrorMessage, PageHeading, Time, usePolling } from '../ui';

/** At most this many events are shown (pages of 500). */
const MAX_EVENTS = 5000;

const TITLES: Record<string, string> = {
  'session.started': 'Session started',
  'session.ended': 'Session ended',
  'operation.intercepted': 'Operation received',
  'operation.decided': 'Policy decided',
  'operation.held': 'Held for approval',
  'operation.completed': 'Completed',
  'operation.denied': 'Refused',
  'operation.failed': 'Failed',
  'statement.completed': 'Statement completed',
  'statement.failed': 'Statement failed',
  'approval.changed': 'Approval changed',
  'approval.notified': 'Approvers notified',
  'auth.failed': 'Authentication refused',
};

function text(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function Line({ label, children }: { label: string; children: ReactNode }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function EventBody({ item }: { item: ReplayedEvent }) {
  const s = item.summary ?? {};
  const d = item.event.data ?? {};
  const statement = text((d as { statement?: unknown }).statement);
  return (
    <dl className="facts">
      {s.method && (
        <Line label="Request">
          <code>
            {s.method} {s.path}
          </code>
        </Line>
      )}
      {(s.sql ?? statement) && (
        <Line label="Statement">
          <code className="sql">{s.sql ?? statement}</code>
        </Line>
      )}
      {s.decision && (
        <Line label="Decision">
          {s.decision}
          {s.ruleId ? ` (rule ${s.ruleId})` : ''}
        </Line>
      )}
      {s.reason && <Line label="Reason">{s.reason}</Line>}
      {s.maskingRules && s.maskingRules.length > 0 && <Line label="Masking rules">{s.maskingRules.join(', ')}</Line>}
      {s.command && <Line label="Command">{s.command}</Line>}
      {s.rows !== undefined && (
        <Line label="Rows">
          {s.rows}
          {s.rowsMasked ? ` (${s.rowsMasked} with masked values)` : ''}
        </Line>
      )}
      {s.status !== undefined && <Line label="Status">{s.status}</Line>}
      {s.sqlstate && <Line label="SQLSTATE">{s.sqlstate}</Line>}
      {s.maskedTotal !== undefined && (
        <Line label="Masked values">
          {s.maskedTotal}
          {s.masked && Object.keys(s.masked).length > 0
            ? ` (${Object.entries(s.masked)
                .map(([rule, n]) => `${rule}: ${n}`)
                .join(', ')})`
            : ''}
        </Line>
      )}
      {s.durationMs !== undefined && (
        <Line label="Time">
          {s.durationMs.toFixed(1)} ms{s.upstreamMs !== undefined ? ` (upstream ${s.upstreamMs.toFixed(1)} ms)` : ''}
        </Line>
      )}
      {s.bytesOut !== undefined && <Line label="Bytes sent">{s.bytesOut}</Line>}
      {s.stage && <Line label="Failed at">{s.stage}</Line>}
      {item.event.type === 'operation.held' && (
        <Line label="Approval">
          {text(d.approvalId)} ({text(d.state)}
          {d.reused ? ', reused' : ''}), expires <Time at={text(d.expiresAt)} />
        </Line>
      )}
      {item.event.type === 'approval.changed' && (
        <Line label="Approval">
          {text(d.approvalId)}: {text(d.action)} by {item.event.actor?.subject ?? 'the system'}, {text(d.from) ?? 'new'}{' '}
          → {text(d.to)} ({text(d.approvals)} of {text(d.required)}){text(d.reason) ? `: “${text(d.reason)}”` : ''}
        </Line>
      )}
    </dl>
  );
}

export function SessionReplayPage({ api, sessionId }: PageProps & { sessionId: string }) {
  const events = usePolling(
    async () => {
      const items: ReplayedEvent[] = [];
      let cursor: string | null = null;
      do {
        const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
        const page: { items: ReplayedEvent[]; nextCursor: string | null } = await api.get(
          'recorder',
          `/audit/sessions/${sessionId}/events?limit=500${q}`,
        );
        items.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor && items.length < MAX_EVENTS);
      return items;
    },
    null,
    [sessionId],
  );
  // The session's summary (GET /audit/sessions/<id>), where the recorder offers it.
  const summary = usePolling(
    async () => {
      try {
        return await api.get<SessionSummary>('recorder', `/audit/sessions/${sessionId}`);
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
    null,
    [sessionId],
  );
  const s = summary.data;
  const items = events.data ?? [];
  const principal = items.find((i) => i.event.actor)?.event.actor;
  return (
    <>
      <PageHeading>Session {sessionId}</PageHeading>
      <p>
        <Link href="/sessions">Back to the search</Link>{' '}
        <button type="button" onClick={events.refresh}>
          Reload
        </button>
      </p>
      <ErrorMessage error={events.error} />
      {events.loading && <p>Loading…</p>}
      {principal && (
        <p>
          Principal: {principal.subject} ({principal.issuer})
        </p>
      )}
      {s && (
        <dl className="facts" aria-label="Summary">
          <dt>Connection</dt>
          <dd>
            {s.connection ?? '—'} ({s.protocol})
          </dd>
          <dt>From – to</dt>
          <dd>
            <Time at={s.startedAt} /> – <Time at={s.endedAt} />
          </dd>
          <dt>Operations</dt>
          <dd>
            {s.operations} ({s.decisions.allow} allowed, {s.decisions.deny} denied, {s.decisions.review} held
            {s.decisions.approved !== undefined ? `, ${s.decisions.approved} approved` : ''})
          </dd>
          <dt>Masked values</dt>
          <dd>{s.masked}</dd>
        </dl>
      )}
      {!events.loading && items.length === 0 && !events.error && <p>No events recorded for this session.</p>}
      {items.length > 0 && (
        <ol className="timeline" aria-label="Timeline">
          {items.map((item) => (
            <li key={`${item.chain}-${item.seq}`} data-type={item.event.type}>
              <h2>
                <Time at={item.event.time} /> — {TITLES[item.event.type] ?? item.event.type}
              </h2>
              <EventBody item={item} />
            </li>
          ))}
        </ol>
      )}
    </>
  );
}
