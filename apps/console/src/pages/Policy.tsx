import { useState, type FormEvent } from 'react';
import type { PageProps } from '../App';
import { ApiError } from '../api';
import { ErrorMessage, PageHeading, usePolling } from '../ui';

interface PolicySummary {
  id: string;
  version: string;
  rules: number;
}

interface PolicyDocument {
  id: string;
  version: string;
  rules: ({ id: string; description?: string; effect: string } & Record<string, unknown>)[];
}

interface DryRunAnswer {
  policy: { id: string; version: string };
  decision: 'allow' | 'deny' | 'review';
  reason: string;
  ruleId: string | null;
  masking: string[];
  approval: { approverGroups: string[]; required: number; expiresInSeconds: number; grantSeconds?: number } | null;
  operation: unknown;
}

export function PolicyPage({ api, session }: PageProps) {
  const summary = usePolling(() => api.get<PolicySummary>('policy', '/policy'), null, []);
  const doc = usePolling(
    async () => {
      try {
        return await api.get<PolicyDocument>('policy', '/policy/document');
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
    null,
    [],
  );
  return (
    <>
      <PageHeading>Policy</PageHeading>
      <ErrorMessage error={summary.error} />
      {summary.data && (
        <p data-testid="policy-version">
          In force: policy <strong>{summary.data.id}</strong>, version <code>{summary.data.version}</code>,{' '}
          {summary.data.rules} rules.
        </p>
      )}
      <section aria-labelledby="rules-heading">
        <h2 id="rules-heading">Rules</h2>
        <ErrorMessage error={doc.error} />
        {doc.data === null && <p>This policy service does not list its rules (no GET /policy/document).</p>}
        {doc.data && (
          <ol className="rules">
            {doc.data.rules.map((rule) => (
              <li key={rule.id}>
                <details>
                  <summary>
                    <strong>{rule.id}</strong> — {rule.effect}
                    {rule.description ? `: ${rule.description}` : ''}
                  </summary>
                  <pre>{JSON.stringify(rule, null, 2)}</pre>
                </details>
              </li>
            ))}
          </ol>
        )}
      </section>
      <DryRun api={api} defaultIssuer={session.issuer} />
    </>
  );
}

function DryRun({ api, defaultIssuer }: Pick<PageProps, 'api'> & { defaultIssuer: string }) {
  const [subject, setSubject] = useState('');
  const [issuer, setIssuer] = useState(defaultIssuer);
  const [groups, setGroups] = useState('');
  const [connection, setConnection] = useState('');
  const [kind, setKind] = useState<'sql' | 'http'>('sql');
  const [sql, setSql] = useState('');
  const [params, setParams] = useState('');
  const [method, setMethod] = useState('GET');
  const [path, setPath] = useState('/');
  const [query, setQuery] = useState('');
  const [answer, setAnswer] = useState<DryRunAnswer>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setAnswer(undefined);
    const body = {
      principal: {
        subject: subject.trim(),
        ...(issuer.trim() ? { issuer: issuer.trim() } : {}),
        groups: groups
          .split(',')
          .map((g) => g.trim())
          .filter(Boolean),
      },
      connection: connection.trim(),
      ...(kind === 'sql'
        ? { sql, ...(params.trim() ? { params: params.split('\n').map((p) => (p === '\\N' ? null : p)) } : {}) }
        : { http: { method, path, ...(query.trim() ? { query: query.trim().replace(/^\?/, '') } : {}) } }),
    };
    try {
      setAnswer(await api.send<DryRunAnswer>('policy', 'POST', '/policy/dry-run', body));
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 404
          ? new Error('This policy service has no dry run (POST /policy/dry-run answered 404).')
          : err,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="dry-run-heading">
      <h2 id="dry-run-heading">Dry run</h2>
      <p>What would policy decide for this principal, connection and statement or request? Nothing is run.</p>
      <form onSubmit={(e) => void onSubmit(e)}>
        <fieldset>
          <legend>Principal</legend>
          <p>
            <label htmlFor="d-subject">Subject</label>
            <input id="d-subject" required value={subject} onChange={(e) => setSubject(e.target.value)} />
          </p>
          <p>
            <label htmlFor="d-issuer">Issuer</label>
            <input id="d-issuer" value={issuer} onChange={(e) => setIssuer(e.target.value)} />
          </p>
          <p>
            <label htmlFor="d-groups">Groups (comma-separated)</label>
            <input id="d-groups" value={groups} onChange={(e) => setGroups(e.target.value)} />
          </p>
        </fieldset>
        <p>
          <label htmlFor="d-connection">Connection</label>
          <input id="d-connection" required value={connection} onChange={(e) => setConnection(e.target.value)} />
        </p>
        <fieldset>
          <legend>Operation</legend>
          <p className="choices">
            <input type="radio" id="d-kind-sql" name="kind" checked={kind === 'sql'} onChange={() => setKind('sql')} />
            <label htmlFor="d-kind-sql">SQL statement</label>{' '}
            <input
              type="radio"
              id="d-kind-http"
              name="kind"
              checked={kind === 'http'}
              onChange={() => setKind('http')}
            />
            <label htmlFor="d-kind-http">HTTP request</label>
          </p>
          {kind === 'sql' ? (
            <>
              <p>
                <label htmlFor="d-sql">Statement</label>
                <textarea id="d-sql" required rows={4} value={sql} onChange={(e) => setSql(e.target.value)} />
              </p>
              <p>
                <label htmlFor="d-params">Bind parameters, one per line ($1 first; \N for NULL)</label>
                <textarea id="d-params" rows={2} value={params} onChange={(e) => setParams(e.target.value)} />
              </p>
            </>
          ) : (
            <>
              <p>
                <label htmlFor="d-method">Method</label>
                <select id="d-method" value={method} onChange={(e) => setMethod(e.target.value)}>
                  {['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'].map((m) => (
                    <option key={m}>{m}</option>
                  ))}
                </select>
              </p>
              <p>
                <label htmlFor="d-path">Path</label>
                <input id="d-path" required value={path} onChange={(e) => setPath(e.target.value)} />
              </p>
              <p>
                <label htmlFor="d-query">Query string</label>
                <input id="d-query" value={query} onChange={(e) => setQuery(e.target.value)} />
              </p>
            </>
          )}
        </fieldset>
        <p>
          <button type="submit" disabled={busy}>
            Ask policy
          </button>
        </p>
      </form>
      <ErrorMessage error={error} />
      {answer && (
        <div role="status" data-testid="dry-run-answer">
          <p>
            Policy {answer.policy.id} version <code>{answer.policy.version}</code> would{' '}
            <strong>
              {answer.decision === 'allow' ? 'allow' : answer.decision === 'deny' ? 'deny' : 'hold for review'}
            </strong>{' '}
            this{answer.ruleId ? `, by rule ${answer.ruleId}` : ' (no rule matched: the default)'}: {answer.reason}
          </p>
          {answer.masking.length > 0 && <p>Masking: {answer.masking.join(', ')}</p>}
          {answer.approval && (
            <p>
              Approval: {answer.approval.required} of {answer.approval.approverGroups.join(', ')}, expires after{' '}
              {answer.approval.expiresInSeconds} s
              {answer.approval.grantSeconds ? `, then allowed for ${answer.approval.grantSeconds} s` : ''}
            </p>
          )}
          <details>
            <summary>What policy judged</summary>
            <pre>{JSON.stringify(answer.operation, null, 2)}</pre>
          </details>
        </div>
      )}
    </section>
  );
}
