import { useState, type FormEvent } from 'react';
import type { PageProps } from '../App';
import { Link } from '../router';
import type { SessionSummary } from '../types';
import { ErrorMessage, PageHeading, Time } from '../ui';

interface Filters {
  principal: string;
  issuer: string;
  connection: string;
  protocol: string;
  from: string;
  to: string;
  decision: string;
  hasMasking: string;
}

const EMPTY: Filters = {
  principal: '',
  issuer: '',
  connection: '',
  protocol: '',
  from: '',
  to: '',
  decision: '',
  hasMasking: '',
};

/** datetime-local gives local time without a zone; the API wants RFC 3339. */
function isoOf(local: string): string {
  return new Date(local).toISOString();
}

function queryOf(f: Filters, cursor?: string): string {
  const q = new URLSearchParams();
  if (f.principal.trim()) q.set('principal', f.principal.trim());
  if (f.issuer.trim()) q.set('issuer', f.issuer.trim());
  if (f.connection.trim()) q.set('connection', f.connection.trim());
  if (f.protocol) q.set('protocol', f.protocol);
  if (f.from) q.set('from', isoOf(f.from));
  if (f.to) q.set('to', isoOf(f.to));
  if (f.decision) q.set('decision', f.decision);
  if (f.hasMasking) q.set('hasMasking', f.hasMasking);
  if (cursor) q.set('cursor', cursor);
  return q.toString();
}

export function SessionsPage({ api }: PageProps) {
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [items, setItems] = useState<SessionSummary[]>();
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const search = async (cursor?: string): Promise<void> => {
    setBusy(true);
    setError(undefined);
    try {
      const page = await api.get<{ items: SessionSummary[]; nextCursor: string | null }>(
        'recorder',
        `/audit/sessions?${queryOf(filters, cursor)}`,
      );
      setItems(cursor ? [...(items ?? []), ...page.items] : page.items);
      setNext(page.nextCursor);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const onSubmit = (e: FormEvent): void => {
    e.preventDefault();
    void search();
  };
  const field = (name: keyof Filters) => ({
    id: `f-${name}`,
    name,
    value: filters[name],
    onChange: (e: { target: { value: string } }) => setFilters({ ...filters, [name]: e.target.value }),
  });

  return (
    <>
      <PageHeading>Sessions</PageHeading>
      <form className="filters" onSubmit={onSubmit} aria-label="Search sessions">
        <p>
          <label htmlFor="f-principal">Principal (subject)</label>
          <input {...field('principal')} />
        </p>
        <p>
          <label htmlFor="f-issuer">Issuer (with a principal)</label>
          <input {...field('issuer')} />
        </p>
        <p>
          <label htmlFor="f-connection">Connection</label>
          <input {...field('connection')} />
        </p>
        <p>
          <label htmlFor="f-protocol">Protocol</label>
          <select {...field('protocol')}>
            <option value="">any</option>
            <option value="http">HTTP</option>
            <option value="postgres">PostgreSQL</option>
            <option value="mcp">MCP</option>
          </select>
        </p>
        <p>
          <label htmlFor="f-from">From</label>
          <input type="datetime-local" {...field('from')} />
        </p>
        <p>
          <label htmlFor="f-to">To</label>
          <input type="datetime-local" {...field('to')} />
        </p>
        <p>
          <label htmlFor="f-decision">Decision</label>
          <select {...field('decision')}>
            <option value="">any</option>
            <option value="allow">allowed</option>
            <option value="deny">denied</option>
            <option value="review">held for review</option>
            <option value="approved">approved</option>
          </select>
        </p>
        <p>
          <label htmlFor="f-hasMasking">Masking</label>
          <select {...field('hasMasking')}>
            <option value="">any</option>
            <option value="true">values were masked</option>
            <option value="false">nothing masked</option>
          </select>
        </p>
        <p>
          <button type="submit" disabled={busy}>
            Search
          </button>
        </p>
      </form>
      <p>Without a time range, the last 24 hours are searched.</p>
      <ErrorMessage error={error} />
      {items !== undefined &&
        (items.length === 0 ? (
          <p role="status">No session matches.</p>
        ) : (
          <table>
            <caption>Sessions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Principal</th>
                <th scope="col">Connection</th>
                <th scope="col">Protocol</th>
                <th scope="col">Operations</th>
                <th scope="col">Decisions</th>
                <th scope="col">Masked</th>
                <th scope="col">Replay</th>
              </tr>
            </thead>
            <tbody>
              {items.map((s) => (
                <tr key={s.sessionId}>
                  <td>
                    <Time at={s.startedAt} />
                  </td>
                  <td>{s.principal ? s.principal.subject : '—'}</td>
                  <td>{s.connection ?? '—'}</td>
                  <td>{s.protocol}</td>
                  <td>{s.operations}</td>
                  <td>
                    {s.decisions.allow} allowed, {s.decisions.deny} denied, {s.decisions.review} held
                    {s.decisions.approved !== undefined ? `, ${s.decisions.approved} approved` : ''}
                  </td>
                  <td>{s.masked}</td>
                  <td>
                    <Link href={`/sessions/${s.sessionId}`} aria-label={`Replay session ${s.sessionId}`}>
                      Replay
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ))}
      {next && (
        <p>
          <button type="button" disabled={busy} onClick={() => void search(next)}>
            More sessions
          </button>
        </p>
      )}
    </>
  );
}
