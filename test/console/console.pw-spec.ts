import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { Client } from 'pg';
import { PgUpstreamDatabase, repoRoot } from '@airlock/testing';
import { consoleServer, consoleSettings } from '../../apps/console/server/serve';
import { TestSystem } from '../support/system';

/**
 * The web console in a real browser (Debian's Chromium) against the whole system: the test
 * identity provider, the five services from dist/, the real Kafka, PostgreSQL and Redis, and the
 * console's own server serving the vite build. A person signs in with the authorization code flow
 * and PKCE, and does through the pages what approvers, auditors and administrators do.
 */
const SHOTS = join(repoRoot(), '.local', 'test-results', 'console');
const WEB = join(repoRoot(), 'dist', 'apps', 'console', 'web');

test.describe.configure({ mode: 'serial' });

const sys = new TestSystem();
const tag = randomBytes(4).toString('hex');
let db: PgUpstreamDatabase;
let server: Server;
let consoleUrl: string;
const clients: Client[] = [];

test.beforeAll(async () => {
  test.setTimeout(300_000);
  mkdirSync(SHOTS, { recursive: true });
  readFileSync(join(WEB, 'index.html')); // built by `npm run build:console`; fail early when it is not
  // The console's port is held from the start: a port only chosen here and bound once the system
  // is up could be taken meanwhile (an outgoing connection of a starting service, say).
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  consoleUrl = `http://127.0.0.1:${port}`;
  await sys.start({ postgres: true, serviceEnv: { CONSOLE_ORIGINS: consoleUrl } });
  db = await PgUpstreamDatabase.create('airlock_console');
  await db.query(`
    CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric);
    INSERT INTO accounts SELECT g, 'owner-' || g, 100 FROM generate_series(1, 20) g;
  `);
  await sys.addPgConnection('pgreview', db);
  const issuer = sys.idp.issuer;
  const roles = (groups: string[]) => JSON.stringify({ [issuer]: groups });
  const app = consoleServer(
    consoleSettings({
      CONSOLE_WEB_DIR: WEB,
      CONSOLE_OIDC_ISSUER: issuer,
      CONSOLE_APPROVAL_URL: sys.approval.url,
      CONSOLE_RECORDER_URL: sys.recorder.url,
      CONSOLE_POLICY_URL: sys.policy.url,
      CONSOLE_VAULT_URL: sys.vault.url,
      VAULT_ADMIN_GROUPS: roles(['airlock-admins']),
      APPROVAL_ADMIN_GROUPS: roles(['airlock-admins']),
      APPROVAL_APPROVER_GROUPS: roles(['*']),
      AUDITOR_GROUPS: roles(['airlock-auditors']),
    }),
  );
  server.on('request', (req, res) => app.emit('request', req, res));
});

test.afterAll(async () => {
  test.setTimeout(120_000);
  await Promise.allSettled(clients.map((c) => c.end()));
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await sys.stop();
  await db?.drop();
});

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Signs in through the identity provider's form, as whoever the test says. */
async function signIn(page: Page, subject: string, groups: string[], screenshots = false): Promise<void> {
  await page.goto(`${consoleUrl}/`);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  if (screenshots) await shot(page, 'sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: /Sign in to the test identity provider/ })).toBeVisible();
  await page.getByLabel('Subject').fill(subject);
  await page.getByLabel('Groups (comma-separated)').fill(groups.join(','));
  if (screenshots) await shot(page, 'sign-in-identity-provider');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('subject')).toHaveText(subject);
  await expect(page).toHaveURL(`${consoleUrl}/approvals`);
}

/** An agent's PostgreSQL session through the gateway, with its own token as the password. */
async function agentClient(subject: string): Promise<Client> {
  const c = new Client({
    host: '127.0.0.1',
    port: sys.pgPort,
    database: 'pgreview',
    user: 'agent',
    password: await sys.token(subject, ['agents']),
    ssl: { rejectUnauthorized: false },
  });
  c.on('error', () => undefined);
  await c.connect();
  clients.push(c);
  return c;
}

function card(page: Page, needle: string) {
  return page.locator('article.card').filter({ has: page.getByTestId('approval-detail').filter({ hasText: needle }) });
}

test("the services' admin APIs let the console's origin call them, and no other origin", async () => {
  const preflight = (url: string, origin: string) =>
    fetch(url, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
  for (const url of [
    `${sys.approval.url}/approvals`,
    `${sys.recorder.url}/audit/verify`,
    `${sys.policy.url}/policy`,
    `${sys.vault.url}/connections`,
  ]) {
    const allowed = await preflight(url, consoleUrl);
    expect({ url, origin: allowed.headers.get('access-control-allow-origin') }).toEqual({ url, origin: consoleUrl });
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    const other = await preflight(url, 'http://127.0.0.1:1');
    expect({ url, origin: other.headers.get('access-control-allow-origin') }).toEqual({ url, origin: null });
  }
});

test('signs in with the authorization code flow and PKCE, and says who is signed in', async ({ page }) => {
  await signIn(page, 'approver-1', ['approvers', 'airlock-auditors'], true);
  await page.getByRole('link', { name: 'Airlock console' }).click();
  await expect(page.getByRole('heading', { name: 'Welcome, approver-1' })).toBeVisible();
  await expect(page.getByText('approvers, airlock-auditors')).toBeVisible();
  await expect(page.getByText(/decide approvals/)).toBeVisible();
  await expect(page.getByText(/search sessions, replay them/)).toBeVisible();
  // Landmarks, and the page's heading takes the focus when a page opens.
  await expect(page.getByRole('banner')).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toBeVisible();
  await expect(page.getByRole('main')).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toBeFocused();
  await shot(page, 'home');
  // The token stays in this tab: a reload keeps the person signed in.
  await page.reload();
  await expect(page.getByTestId('subject')).toHaveText('approver-1');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  // A refused sign-in is said in words.
  await page.goto(`${consoleUrl}/callback?error=access_denied&error_description=the+person+said+no`);
  await expect(page.getByRole('alert')).toHaveText('the identity provider refused the sign-in: the person said no');
  // So is a forged answer that no sign-in in this tab asked for.
  await page.goto(`${consoleUrl}/callback?code=forged&state=forged`);
  await expect(page.getByRole('alert')).toHaveText('no sign-in was started in this tab; sign in again');
  // A token the services refuse (401) signs the person out, saying why.
  await signIn(page, 'approver-1', ['approvers']);
  await page.evaluate(
    "(() => { const k = 'airlock.console.session'; const s = JSON.parse(sessionStorage.getItem(k)); s.accessToken = 'not-a-token'; sessionStorage.setItem(k, JSON.stringify(s)); })()",
  );
  await page.reload();
  await expect(page.getByRole('alert')).toHaveText(
    'Your sign-in has expired or was refused by a service: sign in again.',
  );
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
});

test('a held SQL write appears in the inbox, is approved there, completes, and shows in the replay', async ({
  page,
}) => {
  const agent = await agentClient('agent-e2e');
  const owner = `owner-${tag}`;
  const held = agent.query('UPDATE accounts SET owner = $1 WHERE id = $2', [owner, 7]);
  const settled = held.then(
    (r) => ({ ok: true as const, rows: r.rowCount }),
    (e: Error) => ({ ok: false as const, error: e.message }),
  );

  await signIn(page, 'approver-1', ['approvers', 'airlock-auditors']);
  const approval = card(page, 'UPDATE accounts SET owner');
  await expect(approval).toBeVisible();
  await expect(approval.getByTestId('approval-state')).toHaveText('pending');
  await expect(approval).toContainText('agent-e2e');
  await expect(approval).toContainText('pgreview (postgres)');
  await expect(approval).toContainText('pg-review-writes: writes to the reviewed database need an approver');
  await expect(approval).toContainText('None yet (1 needed)');
  await expect(approval).toContainText(/Expires.*in \d+ min/s);
  await shot(page, 'approvals-inbox');
  const sessionId = (await approval.getByRole('link', { name: /^[0-9a-f-]{36}$/ }).textContent())!;

  // With the keyboard only: the comment, then Tab to Approve and Enter.
  await approval.getByLabel('Comment (optional)').focus();
  await page.keyboard.type('owner change checked');
  await page.keyboard.press('Tab');
  await expect(approval.getByRole('button', { name: 'Approve' })).toBeFocused();
  await page.keyboard.press('Enter');
  const outcome = await settled;
  expect(outcome).toEqual({ ok: true, rows: 1 });
  expect((await db.query<{ owner: string }>('SELECT owner FROM accounts WHERE id = 7'))[0].owner).toBe(owner);
  // The list updates in place: the decided approval leaves the pending list.
  await expect(card(page, 'UPDATE accounts SET owner')).toHaveCount(0);

  await page.getByRole('link', { name: 'Sessions' }).click();
  await page.getByLabel('Principal (subject)').fill('agent-e2e');
  await page.getByLabel('Connection').fill('pgreview');
  await page.getByRole('button', { name: 'Search' }).click();
  const replayLink = page.getByRole('link', { name: `Replay session ${sessionId}` });
  await expect(async () => {
    if (!(await replayLink.isVisible())) await page.getByRole('button', { name: 'Search' }).click();
    await expect(replayLink).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
  await shot(page, 'sessions');
  await replayLink.click();
  await expect(page.getByRole('heading', { name: `Session ${sessionId}` })).toBeVisible();
  const timeline = page.getByRole('list', { name: 'Timeline' });
  await expect(async () => {
    await page.getByRole('button', { name: 'Reload' }).click();
    await expect(timeline.locator('li[data-type="operation.held"]')).toHaveCount(1, { timeout: 2_000 });
    await expect(
      timeline.locator('li[data-type="approval.changed"]').filter({ hasText: 'approve by approver-1' }),
    ).toHaveCount(1, {
      timeout: 2_000,
    });
    await expect(timeline.locator('li[data-type="statement.completed"]').filter({ hasText: 'UPDATE' })).not.toHaveCount(
      0,
      { timeout: 2_000 },
    );
  }).toPass({ timeout: 30_000 });
  await expect(timeline).toContainText('owner change checked');
  await expect(timeline).toContainText('UPDATE accounts SET owner');
  await shot(page, 'session-replay');
});

test('a held HTTP request shows up in the open inbox by itself, and a denial with a comment refuses it', async ({
  page,
}) => {
  await signIn(page, 'approver-2', ['approvers']);
  await expect(page.getByText(/No pending approvals|SQL on|HTTP on/).first()).toBeVisible();
  const path = `/held/items/${tag}-http`;
  const answer = sys.call(`/c/demo${path}`, { method: 'DELETE', token: await sys.token('agent-e2e', ['agents']) });

  // No reload: the inbox polls.
  const approval = card(page, `DELETE ${path}`);
  await expect(approval).toBeVisible();
  await expect(approval).toContainText('demo (http)');
  await expect(approval).toContainText('review-held');
  await approval.getByLabel('Comment (optional)').fill('not this one');
  await approval.getByRole('button', { name: 'Deny' }).click();
  const refused = await answer;
  expect(refused.status).toBe(403);
  expect(refused.text).toMatch(/was denied/);
  await page.getByLabel('Show').selectOption('denied');
  const denied = card(page, `DELETE ${path}`);
  await expect(denied.getByTestId('approval-state')).toHaveText('denied');
  await expect(denied).toContainText('Denied by approver-2');
  await expect(denied).toContainText('not this one');
  await shot(page, 'approvals-denied');
});

test('the requester cannot approve its own held statement, and is told so in words', async ({ page }) => {
  const agent = await agentClient('agent-self');
  const held = agent.query(`UPDATE accounts SET balance = balance + 1 WHERE id = 11 AND owner <> '${tag}'`);
  held.catch(() => undefined);

  await signIn(page, 'agent-self', ['agents', 'approvers']);
  const approval = card(page, `owner <> '${tag}'`);
  await expect(approval).toBeVisible();
  await expect(approval).toContainText('this is you');
  await approval.getByRole('button', { name: 'Approve' }).click();
  await expect(approval.getByRole('alert')).toHaveText('Refused: the requester cannot approve its own request');
  await expect(approval.getByTestId('approval-state')).toHaveText('pending');
  await shot(page, 'approvals-own-refused');
  // Disconnecting cancels the held statement's approval.
  await agent.end();
});

test('an administrator lists connections, creates one and rotates a secret without any secret shown', async ({
  page,
}) => {
  await signIn(page, 'admin-e2e', ['airlock-admins']);
  await page.getByRole('link', { name: 'Connections' }).click();
  const row = page.locator('tr[data-connection="pgreview"]');
  await expect(row.getByTestId('secret-version')).toHaveText('1');

  await page.getByLabel('Name', { exact: true }).fill(`api-${tag}`);
  await page.getByLabel('Upstream URL (no credentials in it)').fill('https://api.example.com');
  await page.getByLabel('Credential kind').selectOption('bearer');
  await page.getByRole('button', { name: 'Create connection' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Connection api-${tag} created` })).toBeVisible();
  await expect(page.locator(`tr[data-connection="api-${tag}"]`).getByTestId('secret-version')).toHaveText(
    'no secret yet',
  );

  // A refusal is shown in words: an upstream URL with a password in it.
  await page.getByLabel('Name', { exact: true }).fill(`bad-${tag}`);
  await page.getByLabel('Upstream URL (no credentials in it)').fill('https://user:pw@api.example.com');
  await page.getByRole('button', { name: 'Create connection' }).click();
  await expect(page.getByRole('alert')).toContainText('must not contain credentials');

  await row.getByRole('button', { name: 'Rotate secret of pgreview' }).click();
  await page.getByLabel('User name').fill(db.user);
  await page.getByLabel('Password').fill(db.password);
  await expect(page.getByLabel('Password')).toHaveAttribute('type', 'password');
  // Everything the page holds, input values included: the scanner finds the password while it is typed in.
  const everything = (): Promise<string> =>
    page.evaluate(
      'document.documentElement.outerHTML + Array.from(document.querySelectorAll("input"), (i) => i.value).join("\\n") + JSON.stringify({ ...sessionStorage })',
    );
  expect(await everything()).toContain(db.password);
  await page.getByRole('button', { name: 'Save new secret' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'The secret of pgreview is now version 2.' })).toBeVisible();
  await expect(row.getByTestId('secret-version')).toHaveText('2');
  // Who rotated it, where the vault reports it (GET /connections gains secretSetBy).
  const reported = await sys.admin('/connections/pgreview');
  await expect(row.getByTestId('secret-set-by')).toHaveText(
    'secretSetBy' in reported.body ? 'admin-e2e' : 'not reported',
  );
  await expect(page.getByLabel('Password')).toHaveValue('');
  await shot(page, 'connections');
  expect(await everything()).not.toContain(db.password);

  // The rotated credential is the one the gateway uses from now on.
  const agent = await agentClient('agent-e2e');
  expect((await agent.query('SELECT count(*)::int AS n FROM accounts')).rows[0].n).toBe(20);
});

test('the policy page shows the policy in force and answers a dry run', async ({ page }) => {
  await signIn(page, 'admin-e2e', ['airlock-admins']);
  await page.getByRole('link', { name: 'Policy' }).click();
  await expect(page.getByTestId('policy-version')).toContainText('policy e2e');
  await shot(page, 'policy');

  await page.getByLabel('Subject').fill('agent-e2e');
  await page.getByLabel('Groups (comma-separated)').fill('agents');
  await page.getByLabel('Connection').fill('pgreview');
  await page.getByRole('textbox', { name: 'Statement' }).fill('DELETE FROM accounts WHERE id = 1');
  await page.getByRole('button', { name: 'Ask policy' }).click();
  const answer = page.getByTestId('dry-run-answer');
  await expect(answer).toContainText('hold for review');
  await expect(answer).toContainText('pg-review-writes');
  await shot(page, 'policy-dry-run');
});

test('the audit page verifies every chain, exports, and shows a broken chain with its first broken link', async ({
  page,
}) => {
  await signIn(page, 'auditor-1', ['airlock-auditors']);
  await page.getByRole('link', { name: 'Audit' }).click();
  await expect(page.getByTestId('verify-status')).toContainText(/All \d+ chains verified/);

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download export' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^airlock-audit-.*\.ndjson$/);
  const lines = readFileSync((await file.path())!, 'utf8')
    .trim()
    .split('\n');
  expect(lines.length).toBeGreaterThan(0);
  expect(JSON.parse(lines[0])).toHaveProperty('hash');
  await shot(page, 'audit');

  // What an attacker with the database's keys can do: edit a stored event, bypassing the triggers.
  const [victim] = await sys.db.query<{ id: string; chain: number; seq: string }>(
    'SELECT id, chain, seq FROM audit_event ORDER BY chain, seq LIMIT 1 OFFSET 2',
  );
  const [{ event }] = await sys.db.query<{ event: Record<string, unknown> }>(
    'SELECT event FROM audit_event WHERE id = $1',
    [victim.id],
  );
  const c = new Client({ connectionString: sys.db.url });
  await c.connect();
  try {
    await c.query('SET session_replication_role = replica');
    await c.query('UPDATE audit_event SET event = $2 WHERE id = $1', [
      victim.id,
      JSON.stringify({ ...event, connection: 'prod-db' }),
    ]);
  } finally {
    await c.end();
  }
  await page.getByRole('button', { name: 'Verify again' }).click();
  await expect(page.getByTestId('verify-status')).toContainText('Verification failed: 1 of');
  const broken = page.locator(`tr[data-chain="${victim.chain}"]`);
  await expect(broken).toContainText('BROKEN');
  await expect(broken).toContainText(`link ${victim.seq} (event ${victim.id})`);
  await shot(page, 'audit-broken');
});
