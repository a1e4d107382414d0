import { InvalidInputError, parseInput } from '../../errors';
import { CreateConnectionSchema } from './connection.dto';
import { parseSecretFields } from './secret.dto';

const base = {
  name: 'billing-api',
  protocol: 'http',
  upstream: 'https://billing.internal/api',
  credentialKind: 'bearer',
};

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof InvalidInputError) return err.publicMessage;
    throw err;
  }
  throw new Error('expected an InvalidInputError');
}

describe('connection input', () => {
  it('accepts a connection and normalises its credential header names', () => {
    const c = parseInput(CreateConnectionSchema, {
      ...base,
      agentCredentialHeaders: ['Authorization', 'X-Api-Key', 'x-api-key'],
    });
    expect(c.agentCredentialHeaders).toEqual(['authorization', 'x-api-key']);
    expect(parseInput(CreateConnectionSchema, base).agentCredentialHeaders).toBeUndefined();
    expect(
      parseInput(CreateConnectionSchema, {
        name: 'orders-db',
        protocol: 'postgres',
        upstream: 'postgres://orders.internal:5432/orders?sslmode=require',
        credentialKind: 'postgres-password',
      }).name,
    ).toBe('orders-db');
  });

  it('refuses credentials inside the upstream URL, without quoting it', () => {
    const msg = problem(() =>
      parseInput(CreateConnectionSchema, { ...base, upstream: 'https://svc:hunter2@billing.internal/' }),
    );
    expect(msg).toMatch(/^upstream: must not contain credentials/);
    expect(msg).not.toContain('hunter2');
    expect(
      problem(() => parseInput(CreateConnectionSchema, { ...base, upstream: 'https://b.internal/?api_key=x' })),
    ).toMatch(/^upstream: must not carry credentials in its query/);
  });

  it('names each field at fault', () => {
    expect(problem(() => parseInput(CreateConnectionSchema, { ...base, name: 'Bad Name' }))).toMatch(
      /^name: connection names/,
    );
    expect(problem(() => parseInput(CreateConnectionSchema, { ...base, upstream: 'ftp://x.internal/' }))).toMatch(
      /^upstream: a http connection's upstream starts with http:\/\/ or https:\/\//,
    );
    expect(problem(() => parseInput(CreateConnectionSchema, { ...base, credentialKind: 'postgres-password' }))).toMatch(
      /^credentialKind: a http connection takes one of bearer, header, basic, aws-sigv4/,
    );
    expect(problem(() => parseInput(CreateConnectionSchema, { ...base, agentCredentialHeaders: ['x api'] }))).toMatch(
      /^agentCredentialHeaders.0: header names/,
    );
    expect(problem(() => parseInput(CreateConnectionSchema, { ...base, upstrem: 'x' }))).toMatch(/upstrem/);
    expect(problem(() => parseInput(CreateConnectionSchema, undefined))).toMatch(/^body: /);
  });
});

describe('secret input', () => {
  it("takes exactly the fields of the connection's credential kind", () => {
    expect(parseSecretFields('bearer', { token: 't0k' })).toEqual({ kind: 'bearer', token: 't0k' });
    expect(parseSecretFields('header', { kind: 'header', header: 'x-api-key', value: 'v' })).toEqual({
      kind: 'header',
      header: 'x-api-key',
      value: 'v',
    });
    expect(parseSecretFields('aws-sigv4', { accessKeyId: 'AKIA', secretAccessKey: 's', region: 'eu-west-1' })).toEqual({
      kind: 'aws-sigv4',
      accessKeyId: 'AKIA',
      secretAccessKey: 's',
      region: 'eu-west-1',
      service: 's3',
    });
    expect(parseSecretFields('postgres-password', { username: 'app', password: 'pw' })).toMatchObject({
      username: 'app',
    });
  });

  it('refuses other kinds, missing and misspelt fields, naming them and never the values', () => {
    const canary = 'canary-dto-91b2';
    const wrongKind = problem(() => parseSecretFields('bearer', { kind: 'basic', token: canary }));
    expect(wrongKind).toMatch(/^kind: /);
    const misspelt = problem(() => parseSecretFields('basic', { username: 'u', pasword: canary }));
    expect(misspelt).toMatch(/password/);
    expect(misspelt).toMatch(/pasword/);
    const notString = problem(() => parseSecretFields('bearer', { token: 12345 }));
    expect(notString).toMatch(/^token: /);
    for (const m of [wrongKind, misspelt, notString]) expect(`${m}${canary}`).toContain(canary);
    for (const m of [wrongKind, misspelt, notString]) expect(m).not.toContain(canary);
    expect(problem(() => parseSecretFields('bearer', { token: 'x'.repeat(20000) }))).toMatch(/at most 16384 bytes/);
  });
});
