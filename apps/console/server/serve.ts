/**
 * Serves the built console (dist/apps/console/web) and its run-time settings (`/config.json`).
 *
 *   CONSOLE_OIDC_ISSUER=http://127.0.0.1:18900 node dist/apps/console/server/serve.js
 *
 * Static files only: the console talks to the services' admin APIs from the browser, with the
 * person's own token, and never through this server.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { z } from 'zod';

const url = z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/$/, ''));

const GroupsByIssuer = z
  .string()
  .default('{}')
  .transform((raw, ctx): Record<string, string[]> => {
    try {
      return z.record(z.string(), z.array(z.string())).parse(JSON.parse(raw));
    } catch {
      ctx.addIssue({ code: 'custom', message: 'a JSON object from issuer to a list of groups' });
      return z.NEVER;
    }
  });

const SettingsSchema = z.object({
  CONSOLE_HOST: z.string().default('127.0.0.1'),
  CONSOLE_PORT: z.coerce.number().int().min(0).max(65535).default(8090),
  CONSOLE_WEB_DIR: z.string().default(resolve(__dirname, '..', 'web')),
  /** The path browsers reach the console under: `/` (its own host or port), or e.g. `/console/`. */
  CONSOLE_BASE_PATH: z
    .string()
    .default('/')
    .refine((p) => /^\/([A-Za-z0-9._~-]+\/)*$/.test(p), 'a path that starts and ends with /, e.g. /console/'),
  CONSOLE_OIDC_ISSUER: url,
  CONSOLE_OIDC_CLIENT_ID: z.string().min(1).default('airlock-console'),
  CONSOLE_OIDC_SCOPE: z.string().min(1).default('openid groups'),
  CONSOLE_APPROVAL_URL: url.default('http://127.0.0.1:8082'),
  CONSOLE_RECORDER_URL: url.default('http://127.0.0.1:8083'),
  CONSOLE_POLICY_URL: url.default('http://127.0.0.1:8081'),
  CONSOLE_VAULT_URL: url.default('http://127.0.0.1:8084'),
  // The services' own role settings (docs/roles.md), so the console can say what a person may do.
  VAULT_ADMIN_GROUPS: GroupsByIssuer,
  APPROVAL_ADMIN_GROUPS: GroupsByIssuer,
  APPROVAL_APPROVER_GROUPS: GroupsByIssuer,
  AUDITOR_GROUPS: GroupsByIssuer,
});
export type ConsoleSettings = z.infer<typeof SettingsSchema>;

export function consoleSettings(env: Record<string, string | undefined>): ConsoleSettings {
  const parsed = SettingsSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(
      `invalid configuration:\n  ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n  ')}`,
    );
  }
  return parsed.data;
}

/** What the browser reads at start: where to sign in and where the services are. */
export function publicConfig(s: ConsoleSettings): Record<string, unknown> {
  return {
    basePath: s.CONSOLE_BASE_PATH,
    issuer: s.CONSOLE_OIDC_ISSUER,
    clientId: s.CONSOLE_OIDC_CLIENT_ID,
    scope: s.CONSOLE_OIDC_SCOPE,
    services: {
      approval: s.CONSOLE_APPROVAL_URL,
      recorder: s.CONSOLE_RECORDER_URL,
      policy: s.CONSOLE_POLICY_URL,
      vault: s.CONSOLE_VAULT_URL,
    },
    roles: {
      vaultAdmin: s.VAULT_ADMIN_GROUPS,
      approvalAdmin: s.APPROVAL_ADMIN_GROUPS,
      approver: s.APPROVAL_APPROVER_GROUPS,
      auditor: s.AUDITOR_GROUPS,
    },
  };
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The browser may reach this origin, the issuer and the four services, nothing else. */
function securityHeaders(s: ConsoleSettings): Record<string, string> {
  const origins = [
    s.CONSOLE_OIDC_ISSUER,
    s.CONSOLE_APPROVAL_URL,
    s.CONSOLE_RECORDER_URL,
    s.CONSOLE_POLICY_URL,
    s.CONSOLE_VAULT_URL,
  ].map((u) => new URL(u).origin);
  return {
    'content-security-policy': [
      "default-src 'self'",
      `connect-src 'self' ${[...new Set(origins)].join(' ')}`,
      "img-src 'self' data:",
      "style-src 'self'",
      "script-src 'self'",
      "object-src 'none'",
      "base-uri 'self'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-content-type-options': 'nosniff',
    // The sign-in callback carries a code in its query: never sent on as a Referer.
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
}

export function consoleServer(s: ConsoleSettings) {
  const root = resolve(s.CONSOLE_WEB_DIR);
  const headers = securityHeaders(s);
  const config = JSON.stringify(publicConfig(s));

  const send = (res: ServerResponse, status: number, type: string, body: string): void => {
    res.writeHead(status, {
      ...headers,
      'content-type': type,
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  };

  const base = s.CONSOLE_BASE_PATH;
  /** The app's page, told where it lives: its relative asset URLs and its paths start there. */
  const page = async (res: ServerResponse, head: boolean): Promise<boolean> => {
    const html = await readFile(join(root, 'index.html'), 'utf8').catch(() => undefined);
    if (html === undefined) return false;
    const body = html.replace(/<head>/i, `<head><base href="${base}">`);
    res.writeHead(200, {
      ...headers,
      'content-type': TYPES['.html'],
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(head ? undefined : body);
    return true;
  };

  const file = async (res: ServerResponse, path: string, head: boolean, cache: string): Promise<boolean> => {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return false;
    res.writeHead(200, {
      ...headers,
      'content-type': TYPES[extname(path)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': cache,
    });
    if (head) res.end();
    else createReadStream(path).pipe(res);
    return true;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    const head = req.method === 'HEAD';
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://console').pathname);
    } catch {
      return send(res, 400, 'text/plain; charset=utf-8', 'bad path\n');
    }
    // Under a base path, a proxy may pass the path on whole or strip the base: both are served.
    if (base !== '/' && (path.startsWith(base) || `${path}/` === base)) path = `/${path.slice(base.length)}`;
    if (path === '/config.json') return send(res, 200, 'application/json', config);
    if (path === '/health') return send(res, 200, 'application/json', '{"status":"ok"}');
    const target = normalize(join(root, path));
    if (target !== root && !target.startsWith(root + sep)) {
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
    // Bundled assets carry a content hash in their names: cached for good. Everything else is fresh.
    const immutable = path.startsWith('/assets/');
    if (
      path !== '/' &&
      path !== '/index.html' &&
      (await file(res, target, head, immutable ? 'public, max-age=31536000, immutable' : 'no-cache'))
    ) {
      return;
    }
    // A page of the console (/approvals, /sessions/<id>, /callback): the app itself decides what to show.
    if ((extname(path) === '' || path === '/index.html') && (await page(res, head))) return;
    return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
  };

  return createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
}

if (require.main === module) {
  let settings: ConsoleSettings;
  try {
    settings = consoleSettings(process.env);
  } catch (err) {
    process.stderr.write(`console: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const server = consoleServer(settings);
  server.listen(settings.CONSOLE_PORT, settings.CONSOLE_HOST, () => {
    process.stdout.write(`console listening on http://${settings.CONSOLE_HOST}:${settings.CONSOLE_PORT}\n`);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => server.close(() => process.exit(0)));
  }
}
