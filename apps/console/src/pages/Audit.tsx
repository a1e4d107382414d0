import { useState, type FormEvent } from 'react';
import type { PageProps } from '../App';
import type { VerifyReport } from '../types';
import { ErrorMessage, Notice, PageHeading, Time, usePolling } from '../ui';

export function AuditPage({ api }: PageProps) {
  const report = usePolling(() => api.get<VerifyReport>('recorder', '/audit/verify'), null, []);
  const r = report.data;
  return (
    <>
      <PageHeading>Audit</PageHeading>
      <section aria-labelledby="verify-heading">
        <h2 id="verify-heading">Hash chains</h2>
        <p>
          Every chain is walked from its anchor and each link checked; the end is held against the latest signed
          checkpoint.{' '}
          <button type="button" onClick={report.refresh} disabled={report.loading}>
            Verify again
          </button>
        </p>
        <ErrorMessage error={report.error} />
        {report.loading && !r && <p>Verifying…</p>}
        {r && (
          <>
            <p role="status" data-testid="verify-status" className={r.ok ? 'ok' : 'error'}>
              {r.ok
                ? `All ${r.chains.length} chains verified.`
                : `Verification failed: ${r.chains.filter((c) => !c.ok).length} of ${r.chains.length} chains are broken${r.checkpoints.invalid.length ? `, ${r.checkpoints.invalid.length} checkpoints invalid` : ''}.`}{' '}
              Checked <Time at={r.verifiedAt} />.
            </p>
            <table>
              <caption>Chains</caption>
              <thead>
                <tr>
                  <th scope="col">Chain</th>
                  <th scope="col">Status</th>
                  <th scope="col">Links verified</th>
                  <th scope="col">Anchor</th>
                  <th scope="col">Last link</th>
                  <th scope="col">First broken link</th>
                </tr>
              </thead>
              <tbody>
                {r.chains.map((c) => (
                  <tr key={c.chain} data-chain={c.chain}>
                    <th scope="row">{c.chain}</th>
                    <td>{c.ok ? 'verified' : 'BROKEN'}</td>
                    <td>{c.verified}</td>
                    <td>
                      {c.anchor.kind} at {c.anchor.seq}
                    </td>
                    <td>{c.lastSeq ?? '—'}</td>
                    <td>
                      {c.brokenAt
                        ? `link ${c.brokenAt.seq} (event ${c.brokenAt.eventId}): ${c.brokenAt.reason ?? c.brokenAt.problem ?? ''}`
                        : c.truncated
                          ? `ends at ${c.truncated.lastSeq ?? 'nothing'}, expected ${c.truncated.expectedSeq}: ${c.truncated.reason}`
                          : '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {r.checkpoints.invalid.length > 0 && (
              <>
                <h3>Invalid checkpoints</h3>
                <ul>
                  {r.checkpoints.invalid.map((cp) => (
                    <li key={`${cp.kind}-${cp.chain}-${cp.seq}`}>
                      {cp.kind} checkpoint of chain {cp.chain} at {cp.seq}: {cp.problem}
                    </li>
                  ))}
                </ul>
              </>
            )}
            <p>{r.checkpoints.checked} signed checkpoints checked.</p>
          </>
        )}
      </section>
      <ExportForm api={api} />
    </>
  );
}

function ExportForm({ api }: Pick<PageProps, 'api'>) {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const q = new URLSearchParams();
      if (from) q.set('from', new Date(from).toISOString());
      if (to) q.set('to', new Date(to).toISOString());
      const blob = await api.blob('recorder', `/audit/export?${q.toString()}`);
      const name = `airlock-audit-${new Date().toISOString().replace(/[:.]/g, '-')}.ndjson`;
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = name;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setDone(`Downloaded ${name} (${blob.size} bytes).`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="export-heading">
      <h2 id="export-heading">Export</h2>
      <p>The stored events of a time range as NDJSON, one event with its place in the chain per line.</p>
      <form onSubmit={(e) => void onSubmit(e)} className="inline">
        <label htmlFor="export-from">From</label>
        <input id="export-from" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
        <label htmlFor="export-to">To</label>
        <input id="export-to" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
        <button type="submit" disabled={busy}>
          Download export
        </button>
      </form>
      <p>Without a range, the last 24 hours are exported.</p>
      <ErrorMessage error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
  );
}
