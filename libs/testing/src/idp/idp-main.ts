/**
 * Local test identity provider.
 *
 *   npx tsx libs/testing/src/idp/idp-main.ts serve --port 18900 --key-file .local/idp/key.json
 *   npx tsx libs/testing/src/idp/idp-main.ts token --key-file .local/idp/key.json \
 *       --issuer http://127.0.0.1:18900 --sub agent-demo --groups agents --aud airlock --ttl 3600
 *
 * `token` needs no running server: it signs with the persisted key that `serve` publishes.
 */
import { parseArgs } from 'node:util';
import { TestIdentityProvider } from './test-identity-provider';
import { TestTokenSigner } from './test-token-signer';

const USAGE = `usage:
  idp-main serve [--port 18900] [--host 127.0.0.1] [--key-file <path>] [--ec]
                 [--user subject=group1,group2 ...] [--token-ttl 3600]
  idp-main token --key-file <path> --issuer <url> --sub <subject>
                 [--groups a,b ...] [--aud airlock ...] [--ttl 3600] [--alg RS256|ES256]
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'token':
      return token(rest);
    default:
      process.stderr.write(USAGE);
      return command === undefined || command === '--help' || command === 'help' ? 0 : 2;
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '18900' },
      host: { type: 'string', default: '127.0.0.1' },
      'key-file': { type: 'string' },
      ec: { type: 'boolean', default: false },
      user: { type: 'string', multiple: true, default: [] },
      'token-ttl': { type: 'string', default: '3600' },
    },
    strict: true,
  });
  const provider = await TestIdentityProvider.start({
    port: integer('--port', values.port, 0, 65535),
    host: values.host,
    keyFile: values['key-file'],
    ecKey: values.ec,
    users: usersOf(values.user),
    tokenTtlSeconds: integer('--token-ttl', values['token-ttl'], 60, 366 * 24 * 3600),
  });
  process.stdout.write(
    `${JSON.stringify({ issuer: provider.issuer, jwksUri: provider.jwksUri, kid: provider.kid })}\n`,
  );
  if (values['key-file'] === undefined) {
    process.stderr.write('warning: no --key-file, the signing key is lost on exit\n');
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await provider.stop();
  return 0;
}

async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      'key-file': { type: 'string' },
      issuer: { type: 'string' },
      sub: { type: 'string' },
      groups: { type: 'string', multiple: true, default: [] },
      aud: { type: 'string', multiple: true, default: [] },
      ttl: { type: 'string', default: '3600' },
      alg: { type: 'string', default: 'RS256' },
    },
    strict: true,
  });
  const keyFile = required('--key-file', values['key-file']);
  const issuer = required('--issuer', values.issuer);
  const sub = required('--sub', values.sub);
  if (values.alg !== 'RS256' && values.alg !== 'ES256') {
    throw new UsageError('--alg must be RS256 or ES256');
  }
  const audience = splitList(values.aud);
  const signer = await TestTokenSigner.create({ issuer, keyFile, ecKey: values.alg === 'ES256' });
  const jwt = await signer.sign(
    {
      sub,
      groups: splitList(values.groups),
      ...(audience.length === 0 ? {} : { aud: audience.length === 1 ? audience[0] : audience }),
      expiresInSeconds: integer('--ttl', values.ttl, 1, 366 * 24 * 3600),
    },
    { alg: values.alg },
  );
  process.stdout.write(`${jwt}\n`);
  return 0;
}

class UsageError extends Error {}

function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') {
    throw new UsageError(`${name} is required`);
  }
  return value;
}

function integer(name: string, value: string, min: number, max: number): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`${name} must be an integer between ${min} and ${max}`);
  }
  return parsed;
}

/** `--user alice=dba,sre --user bob=` → { alice: [dba, sre], bob: [] }: the sign-in page's known users. */
function usersOf(values: string[]): Record<string, string[]> {
  const users: Record<string, string[]> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    const subject = at < 0 ? value : value.slice(0, at);
    if (subject === '') throw new UsageError('--user takes subject=group1,group2');
    users[subject] = at < 0 ? [] : splitList([value.slice(at + 1)]);
  }
  return users;
}

/** `--groups a,b --groups c` → [a, b, c]. */
function splitList(values: string[]): string[] {
  return values
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter((value) => value !== '');
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
      process.stderr.write(`idp: ${error instanceof Error ? error.message : String(error)}\n${usage ? USAGE : ''}`);
      process.exitCode = usage ? 2 : 1;
    },
  );
}
