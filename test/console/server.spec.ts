import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { consoleServer, consoleSettings } from '../../apps/console/server/serve';

describe('the console server', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const web = mkdtempSync(join(tmpdir(), 'airlock-console-'));
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><html><head><title>console</title></head></html>');
    writeFileSync(join(web, 'assets', 'app-1234.js'), 'export {};');
    writeFileSync(join(tmpdir(), 'outside-console.txt'), 'outside');
    const settings = consoleSettings({
      CONSOLE_WEB_DIR: web,
      CONSOLE_OIDC_ISSUER: 'http://127.0.0.1:18900/',
      AUDITOR_GROUPS: '{"http://127.0.0.1:18900":["airlock-auditors"]}',
    });
    server = consoleServer(settings);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('tells the browser where to sign in and where the services are', async () => {
    const r = await fetch(`${base}/config.json`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      basePath: '/',
      issuer: 'http://127.0.0.1:18900',
      clientId: 'airlock-console',
      scope: 'openid groups',
      services: {
        approval: 'http://127.0.0.1:8082',
        recorder: 'http://127.0.0.1:8083',
        policy: 'http://127.0.0.1:8081',
        vault: 'http://127.0.0.1:8084',
      },
      roles: {
        vaultAdmin: {},
        approvalAdmin: {},
        approver: {},
        auditor: { 'http://127.0.0.1:18900': ['airlock-auditors'] },
      },
    });
  });

  it('serves the app for every page path, with a policy that lets it reach only the issuer and the services', async () => {
    for (const path of ['/', '/approvals', '/sessions/019abcde-0000-7000-8000-00000000000a', '/callback?code=x']) {
      const r = await fetch(`${base}${path}`);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('<head><base href="/">');
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain(
        "connect-src 'self' http://127.0.0.1:18900 http://127.0.0.1:8082 http://127.0.0.1:8083 http://127.0.0.1:8081 http://127.0.0.1:8084",
      );
      expect(csp).toContain("script-src 'self'");
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    }
    const asset = await fetch(`${base}/assets/app-1234.js`);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
  });

  it('answers 404 for a missing file and for a path out of its folder', async () => {
    expect((await fetch(`${base}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/..%2foutside-console.txt`)).status).toBe(404);
    expect((await fetch(`${base}/%2e%2e/outside-console.txt`)).status).toBe(404);
  });

  it('serves the console under a base path, whether a proxy strips it or not', async () => {
    const web = mkdtempSync(join(tmpdir(), 'airlock-console-base-'));
    mkdirSync(join(web, 'assets'));
    writeFileSync(join(web, 'index.html'), '<!doctype html><html><head><title>console</title></head></html>');
    writeFileSync(join(web, 'assets', 'app-1234.js'), 'export {};');
    const under = consoleServer(
      consoleSettings({ CONSOLE_WEB_DIR: web, CONSOLE_OIDC_ISSUER: 'http://idp', CONSOLE_BASE_PATH: '/console/' }),
    );
    await new Promise<void>((resolve) => under.listen(0, '127.0.0.1', resolve));
    const at = `http://127.0.0.1:${(under.address() as AddressInfo).port}`;
    try {
      for (const path of ['/console/', '/console', '/console/approvals', '/approvals']) {
        const r = await fetch(`${at}${path}`);
        expect({ path, status: r.status }).toEqual({ path, status: 200 });
        expect(await r.text()).toContain('<head><base href="/console/">');
      }
      expect((await fetch(`${at}/console/assets/app-1234.js`)).status).toBe(200);
      expect(await (await fetch(`${at}/console/config.json`)).json()).toMatchObject({ basePath: '/console/' });
    } finally {
      await new Promise((resolve) => under.close(resolve));
    }
    expect(() => consoleSettings({ CONSOLE_OIDC_ISSUER: 'http://idp', CONSOLE_BASE_PATH: '/console' })).toThrow(
      /CONSOLE_BASE_PATH/,
    );
  });

  it('serves reads only', async () => {
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('refuses a bad setting, naming it', () => {
    expect(() => consoleSettings({})).toThrow(/CONSOLE_OIDC_ISSUER/);
    expect(() => consoleSettings({ CONSOLE_OIDC_ISSUER: 'http://idp', AUDITOR_GROUPS: '[1]' })).toThrow(
      /AUDITOR_GROUPS/,
    );
  });
});
