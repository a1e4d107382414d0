import type { PageProps } from '../App';
import { Link } from '../router';
import { PageHeading, Time } from '../ui';

export function HomePage({ session, roles }: PageProps) {
  const held = [
    roles.approver || roles.approvalAdmin ? 'decide approvals (in the groups a rule names)' : undefined,
    roles.approvalAdmin ? 'see every approval' : undefined,
    roles.auditor ? 'search sessions, replay them, verify and export the audit store' : undefined,
    roles.vaultAdmin ? 'manage connections and rotate their secrets' : undefined,
  ].filter((r): r is string => r !== undefined);
  return (
    <>
      <PageHeading>Welcome, {session.subject}</PageHeading>
      <dl className="facts">
        <dt>Issuer</dt>
        <dd>
          <code>{session.issuer}</code>
        </dd>
        <dt>Groups</dt>
        <dd>{session.groups.length ? session.groups.join(', ') : 'none'}</dd>
        <dt>Sign-in valid until</dt>
        <dd>
          <Time at={new Date(session.expiresAt * 1000).toISOString()} />
        </dd>
      </dl>
      <h2>What your groups let you do</h2>
      {held.length ? (
        <ul>
          {held.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      ) : (
        <p>Your groups grant no role here. Each service still answers for itself; pages show its refusals.</p>
      )}
      <p>
        Start with the <Link href="/approvals">approvals inbox</Link>.
      </p>
    </>
  );
}
