import { useState, type FormEvent } from 'react';
import type { PageProps } from '../App';
import type { ConnectionView, CredentialKind } from '../types';
import { ErrorMessage, Notice, PageHeading, Time, usePolling } from '../ui';

const KINDS: Record<'http' | 'postgres', CredentialKind[]> = {
  http: ['bearer', 'header', 'basic', 'aws-sigv4'],
  postgres: ['postgres-password'],
};

/** The fields of each credential kind's secret; `secret` ones are typed into password fields. */
const SECRET_FIELDS: Record<CredentialKind, { name: string; label: string; secret: boolean; optional?: boolean }[]> = {
  bearer: [{ name: 'token', label: 'Token', secret: true }],
  header: [
    { name: 'header', label: 'Header name', secret: false },
    { name: 'value', label: 'Header value', secret: true },
  ],
  basic: [
    { name: 'username', label: 'User name', secret: false },
    { name: 'password', label: 'Password', secret: true },
  ],
  'aws-sigv4': [
    { name: 'accessKeyId', label: 'Access key id', secret: false },
    { name: 'secretAccessKey', label: 'Secret access key', secret: true },
    { name: 'sessionToken', label: 'Session token', secret: true, optional: true },
    { name: 'region', label: 'Region', secret: false },
    { name: 'service', label: 'Service', secret: false, optional: true },
  ],
  'postgres-password': [
    { name: 'username', label: 'User name', secret: false },
    { name: 'password', label: 'Password', secret: true },
  ],
};

function by(actor: { subject: string } | null | undefined): string {
  return actor ? actor.subject : '—';
}

export function ConnectionsPage({ api }: PageProps) {
  const list = usePolling(() => api.get<{ connections: ConnectionView[] }>('vault', '/connections'), null, []);
  const connections = list.data?.connections ?? [];
  const [rotating, setRotating] = useState<string>();
  return (
    <>
      <PageHeading>Connections</PageHeading>
      <p>Secrets are write-only: the vault never gives one back, and this console never shows one.</p>
      <ErrorMessage error={list.error} />
      {list.loading ? (
        <p>Loading…</p>
      ) : connections.length === 0 ? (
        !list.error && <p>No connections yet.</p>
      ) : (
        <table>
          <caption>Connections in the vault</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Protocol</th>
              <th scope="col">Upstream</th>
              <th scope="col">Credential</th>
              <th scope="col">Secret version</th>
              <th scope="col">Last rotated</th>
              <th scope="col">Rotated by</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {connections.map((c) => (
              <tr key={c.name} data-connection={c.name}>
                <th scope="row">{c.name}</th>
                <td>{c.protocol}</td>
                <td>
                  <code>{c.upstream}</code>
                </td>
                <td>{c.credentialKind}</td>
                <td data-testid="secret-version">{c.secretVersion ?? 'no secret yet'}</td>
                <td>
                  <Time at={c.secretSetAt} />
                </td>
                <td data-testid="secret-set-by">{c.secretSetBy === undefined ? 'not reported' : by(c.secretSetBy)}</td>
                <td>
                  <Time at={c.createdAt} /> by {by(c.createdBy)}
                </td>
                <td>
                  <button
                    type="button"
                    aria-expanded={rotating === c.name}
                    onClick={() => setRotating(rotating === c.name ? undefined : c.name)}
                  >
                    {c.secretVersion === null ? 'Set secret' : 'Rotate secret'}
                    <span className="visually-hidden"> of {c.name}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rotating && (
        <RotateForm
          key={rotating}
          api={api}
          connection={connections.find((c) => c.name === rotating)!}
          onDone={list.refresh}
        />
      )}
      <CreateForm api={api} onCreated={list.refresh} />
    </>
  );
}

function RotateForm({
  api,
  connection,
  onDone,
}: Pick<PageProps, 'api'> & { connection: ConnectionView; onDone: () => void }) {
  const fields = SECRET_FIELDS[connection.credentialKind];
  const [values, setValues] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    const body: Record<string, string> = {};
    for (const f of fields) if (!(f.optional && !values[f.name])) body[f.name] = values[f.name] ?? '';
    try {
      const r = await api.send<{ connection: string; secretVersion: number }>(
        'vault',
        'PUT',
        `/connections/${encodeURIComponent(connection.name)}/secret`,
        body,
      );
      setValues({});
      setDone(`The secret of ${r.connection} is now version ${r.secretVersion}.`);
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="rotate-heading">
      <h2 id="rotate-heading">
        {connection.secretVersion === null ? 'Set the secret' : 'Rotate the secret'} of {connection.name}
      </h2>
      <form onSubmit={(e) => void onSubmit(e)} autoComplete="off">
        {fields.map((f) => (
          <p key={f.name}>
            <label htmlFor={`secret-${f.name}`}>
              {f.label}
              {f.optional ? ' (optional)' : ''}
            </label>
            <input
              id={`secret-${f.name}`}
              type={f.secret ? 'password' : 'text'}
              autoComplete={f.secret ? 'new-password' : 'off'}
              required={!f.optional}
              value={values[f.name] ?? ''}
              onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
            />
          </p>
        ))}
        <p>
          <button type="submit" disabled={busy}>
            Save new secret
          </button>
        </p>
      </form>
      <ErrorMessage error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
  );
}

function CreateForm({ api, onCreated }: Pick<PageProps, 'api'> & { onCreated: () => void }) {
  const [name, setName] = useState('');
  const [protocol, setProtocol] = useState<'http' | 'postgres'>('http');
  const [upstream, setUpstream] = useState('');
  const [kind, setKind] = useState<CredentialKind>('bearer');
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    setDone(undefined);
    try {
      const c = await api.send<ConnectionView>('vault', 'POST', '/connections', {
        name: name.trim(),
        protocol,
        upstream: upstream.trim(),
        credentialKind: kind,
      });
      setDone(`Connection ${c.name} created. Set its secret next.`);
      setName('');
      setUpstream('');
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="create-heading">
      <h2 id="create-heading">New connection</h2>
      <form onSubmit={(e) => void onSubmit(e)}>
        <p>
          <label htmlFor="c-name">Name</label>
          <input id="c-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </p>
        <p>
          <label htmlFor="c-protocol">Protocol</label>
          <select
            id="c-protocol"
            value={protocol}
            onChange={(e) => {
              const p = e.target.value as 'http' | 'postgres';
              setProtocol(p);
              setKind(KINDS[p][0]);
            }}
          >
            <option value="http">HTTP</option>
            <option value="postgres">PostgreSQL</option>
          </select>
        </p>
        <p>
          <label htmlFor="c-upstream">Upstream URL (no credentials in it)</label>
          <input
            id="c-upstream"
            required
            value={upstream}
            placeholder={protocol === 'http' ? 'https://api.example.com' : 'postgres://db.example.com:5432/app'}
            onChange={(e) => setUpstream(e.target.value)}
          />
        </p>
        <p>
          <label htmlFor="c-kind">Credential kind</label>
          <select id="c-kind" value={kind} onChange={(e) => setKind(e.target.value as CredentialKind)}>
            {KINDS[protocol].map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </p>
        <p>
          <button type="submit" disabled={busy}>
            Create connection
          </button>
        </p>
      </form>
      <ErrorMessage error={error} />
      {done && <Notice>{done}</Notice>}
    </section>
  );
}
