import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SigV4CheckingProxy, githubFormatToken, reflectedHeaders, waitFor } from '@airlock/testing';
import { findIn, scanSystem } from './support/scanner';
import { TestSystem } from './support/system';

/**
 * The agent gets the data, never the secret: credentials come from the vault sealed to the
 * ingress, are injected upstream, and nothing secret comes back — checked by scanning every
 * byte the system wrote. Real Kafka, PostgreSQL, a local S3 server that checks signatures.
 */
describe('credentials and masking on the HTTP path', () => {
  const sys = new TestSystem();
  const tag = randomBytes(6).toString('hex');
  const credentialCanary = `canary-credential-${tag}`;
  const plantedPassword = `canary-password-${tag}`;
  const plantedToken = githubFormatToken(`c${tag}`.padEnd(30, 'a'));
  const plainCanary = `canary-plain/${tag}+x`;
  /** Forms of the injected credentials a reflecting upstream handed back: the canary scan looks for them all. */
  const reflectedForms: string[] = [];
  const responses: string[] = [];

  async function agent(
    path: string,
    init: RequestInit = {},
  ): Promise<{ status: number; text: string; body: Record<string, unknown>; headers: Headers }> {
    const r = await sys.call(path, init);
    responses.push(`${r.status} ${JSON.stringify([...r.headers])} ${r.text}`);
    return r;
  }

  // Canaries are planted by this file only: Kafka is scanned from a little before it started.
  const startedAt = Date.now() - 60_000;

  beforeAll(async () => {
    await sys.start();
    const created = await sys.admin('/connections', {
      method: 'POST',
      body: JSON.stringify({ name: 'secure', protocol: 'http', upstream: sys.upstream.url, credentialKind: 'bearer' }),
    });
    expect(created.status).toBe(201);
    const set = await sys.admin('/connections/secure/secret', {
      method: 'PUT',
      body: JSON.stringify({ token: credentialCanary }),
    });
    expect(set.status).toBe(200);
    expect(set.text).not.toContain(credentialCanary);
    sys.upstream.planted = {
      password: plantedPassword,
      note: `use ${plantedToken} to deploy`,
      nested: { a: { b: { c: { api_key: plantedPassword } } } },
    };
  }, 180000);

  afterAll(async () => {
    await sys.stop();
  }, 60000);

  it('injects the vault credential upstream, drops the agent credential, and masks secrets in the response', async () => {
    const before = sys.upstream.received.length;
    const r = await agent('/c/secure/items', { headers: { 'x-api-key': 'agent-key', cookie: 'a=b' } });
    expect(r.status).toBe(200);
    const got = sys.upstream.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0].headers.authorization).toBe(`Bearer ${credentialCanary}`);
    expect(got[0].headers['x-api-key']).toBeUndefined();
    expect(got[0].headers.cookie).toBeUndefined();
    expect(r.body.password).toBe('[MASKED:field:password]');
    expect(String(r.body.note)).toMatch(/^use \[MASKED:[a-z-]+\] to deploy$/);
    expect(r.text).not.toContain(plantedPassword);
    expect(r.text).not.toContain(plantedToken);
  });

  /** What a reflecting upstream makes of the request it got: the forms the agent must never see. */
  function leakedForms(headers: Record<string, unknown>): string[] {
    const all = reflectedHeaders(headers as never);
    const auth = String(headers.authorization);
    return [all, auth, Buffer.from(all).toString('base64'), encodeURIComponent(all)].concat(
      [auth, auth.replace(/^Bearer /, '')].flatMap((v) => [
        v,
        Buffer.from(v).toString('base64'),
        encodeURIComponent(v),
      ]),
    );
  }

  it('an upstream that reflects the request hands back nothing the vault injected, masked or not', async () => {
    expect(
      (
        await sys.admin('/connections', {
          method: 'POST',
          body: JSON.stringify({
            name: 'plain',
            protocol: 'http',
            upstream: sys.upstream.url,
            credentialKind: 'bearer',
          }),
        })
      ).status,
    ).toBe(201);
    expect(
      (await sys.admin('/connections/plain/secret', { method: 'PUT', body: JSON.stringify({ token: plainCanary }) }))
        .status,
    ).toBe(200);
    // The scanner finds what the upstream hands back on purpose.
    const direct = await fetch(`${sys.upstream.url}/reflect`, { headers: { authorization: `Bearer ${plainCanary}` } });
    const directText = `${await direct.text()} ${JSON.stringify([...direct.headers])}`;
    const directForms = leakedForms(sys.upstream.received[sys.upstream.received.length - 1].headers);
    expect(findIn('direct reflection', directText, directForms).length).toBeGreaterThanOrEqual(5);
    expect(direct.headers.getSetCookie()).toHaveLength(1);

    for (const [connection, canary] of [
      ['secure', credentialCanary],
      ['plain', plainCanary],
    ]) {
      const before = sys.upstream.received.length;
      const r = await agent(`/c/${connection}/reflect/debug`);
      expect(r.status).toBe(200);
      const got = sys.upstream.received.slice(before);
      expect(got).toHaveLength(1);
      expect(got[0].headers.authorization).toBe(`Bearer ${canary}`);
      const forms = leakedForms(got[0].headers);
      reflectedForms.push(...forms);
      const seen = `${r.text} ${JSON.stringify([...r.headers])} ${r.headers.getSetCookie().join(' ')}`;
      expect(findIn(`agent view of ${connection}`, seen, forms)).toEqual([]);
      expect(r.headers.getSetCookie()).toEqual([]);
      expect(r.headers.get('x-echo-authorization')).toMatch(/^Bearer \[MASKED:[a-z-]+\]$/);
      expect(r.text).toContain('[MASKED:credential]');
      const events = await sys.audit.waitForRequest(r.headers.get('x-airlock-request-id')!, ['operation.completed']);
      const data = events.find((e) => e.type === 'operation.completed')!.event.data as {
        masked?: Record<string, number>;
      };
      expect(data.masked?.credential).toBeGreaterThanOrEqual(4);
    }
  });

  it('drops Range and If-Range on a masked connection, so no read starts mid-secret', async () => {
    const before = sys.upstream.received.length;
    expect((await agent('/c/secure/items', { headers: { range: 'bytes=12-', 'if-range': '"v1"' } })).status).toBe(200);
    expect((await agent('/c/plain/reflect/range', { headers: { range: 'bytes=12-' } })).status).toBe(200);
    const got = sys.upstream.received.slice(before);
    expect(got).toHaveLength(2);
    expect(got[0].headers.range).toBeUndefined();
    expect(got[0].headers['if-range']).toBeUndefined();
    // Without masking the header goes through: what the gateway drops is its own decision.
    expect(got[1].headers.range).toBe('bytes=12-');
  });

  it('records masking counts, never the values', async () => {
    const r = await sys.call('/c/secure/counted');
    const requestId = r.headers.get('x-airlock-request-id')!;
    const events = await sys.audit.waitForRequest(requestId, ['operation.completed']);
    const data = events.find((e) => e.type === 'operation.completed')!.event.data as {
      masked?: Record<string, number>;
    };
    expect(Object.values(data.masked ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
    responses.push(r.text);
  });

  it('uses the new secret after a rotation, without a restart', async () => {
    const next = `canary-rotated-${tag}`;
    expect((await agent('/c/secure/before-rotation')).status).toBe(200);
    const set = await sys.admin('/connections/secure/secret', { method: 'PUT', body: JSON.stringify({ token: next }) });
    expect(set.status).toBe(200);
    const seen = await waitFor(
      'a request with the rotated secret',
      async () => {
        const before = sys.upstream.received.length;
        await agent(`/c/secure/after-rotation-${randomUUID()}`);
        const auth = sys.upstream.received.slice(before)[0]?.headers.authorization;
        return auth === `Bearer ${next}` ? auth : undefined;
      },
      { timeoutMs: 10000, intervalMs: 50 },
    );
    expect(seen).toBe(`Bearer ${next}`);
    // Once rotated, never back to the old secret.
    for (let i = 0; i < 5; i++) {
      const before = sys.upstream.received.length;
      await agent(`/c/secure/steady-${i}`);
      expect(sys.upstream.received.slice(before)[0].headers.authorization).toBe(`Bearer ${next}`);
    }
    expect(sys.ingress.running).toBe(true);
    credentials.push(next);
  });

  it('answers 404 for a connection policy allows but the vault does not know', async () => {
    const r = await agent('/c/ghost/x');
    expect(r.status).toBe(404);
    expect(r.body.error).toBe('unknown_connection');
  });

  const credentials: string[] = [];

  it('an S3 client with no key of its own uses a bucket through the gateway', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const S3rver = require('s3rver') as new (o: object) => { run(): Promise<{ port: number }>; close(): Promise<void> };
    const dir = `${sys.workDir}/s3`;
    const server = new S3rver({ port: 0, address: '127.0.0.1', directory: dir, silent: true });
    const { port } = await server.run();
    const s3 = await SigV4CheckingProxy.start(new URL(`http://127.0.0.1:${port}`), { S3RVER: 'S3RVER' });
    try {
      expect(
        (
          await sys.admin('/connections', {
            method: 'POST',
            body: JSON.stringify({
              name: 's3',
              protocol: 'http',
              upstream: s3.url,
              credentialKind: 'aws-sigv4',
            }),
          })
        ).status,
      ).toBe(201);
      expect(
        (
          await sys.admin('/connections/s3/secret', {
            method: 'PUT',
            body: JSON.stringify({
              accessKeyId: 'S3RVER',
              secretAccessKey: 'S3RVER',
              region: 'us-east-1',
              service: 's3',
            }),
          })
        ).status,
      ).toBe(200);
      const client = new S3Client({
        endpoint: `${sys.ingress.url}/c/s3`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'agent-has-no-key', secretAccessKey: 'agent-has-no-secret' },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      // The SDK's Authorization carries its (dummy) signature: the agent's token goes in Proxy-Authorization.
      const token = await sys.token();
      client.middlewareStack.add(
        (next) => async (args) => {
          (args.request as { headers: Record<string, string> }).headers['proxy-authorization'] = `Bearer ${token}`;
          return next(args);
        },
        { step: 'build', name: 'airlockAgentToken' },
      );
      await client.send(new CreateBucketCommand({ Bucket: 'agent-bucket' }));
      await client.send(
        new PutObjectCommand({
          Bucket: 'agent-bucket',
          Key: 'notes/hello.txt',
          Body: 'hello from the agent',
          ContentType: 'text/plain',
        }),
      );
      const got = await client.send(new GetObjectCommand({ Bucket: 'agent-bucket', Key: 'notes/hello.txt' }));
      expect(await got.Body!.transformToString()).toBe('hello from the agent');
      const list = await client.send(new ListObjectsV2Command({ Bucket: 'agent-bucket' }));
      expect(list.Contents?.map((o) => o.Key)).toEqual(['notes/hello.txt']);
      expect(s3.rejected).toEqual([]);

      // A wrong key at the vault: the upstream refuses the signature, and says so.
      const wrong = await sys.admin('/connections/s3/secret', {
        method: 'PUT',
        body: JSON.stringify({
          accessKeyId: 'S3RVER',
          secretAccessKey: 'wrong-secret',
          region: 'us-east-1',
          service: 's3',
        }),
      });
      expect(wrong.status).toBe(200);
      const err = await waitFor('the wrong key to be used', async () => {
        try {
          await client.send(new ListObjectsV2Command({ Bucket: 'agent-bucket' }));
          return undefined;
        } catch (e) {
          return e as Error & { name: string };
        }
      });
      expect(err.name).toBe('SignatureDoesNotMatch');
      expect(s3.rejected).toContain('signature mismatch');
    } finally {
      await s3.stop();
      await server.close();
    }
  });

  it('leaves no credential or planted secret anywhere: Kafka, logs, the audit store, or any response', async () => {
    const needles = [credentialCanary, plantedPassword, plantedToken, plainCanary, ...credentials];
    expect(reflectedForms.length).toBeGreaterThan(0);
    // The scanner finds what is there on purpose: the upstream's own view.
    const upstreamView = JSON.stringify(sys.upstream.received.map((r) => r.headers));
    expect(findIn('upstream headers', upstreamView, [credentialCanary]).length).toBeGreaterThan(0);
    const planted = await fetch(`${sys.upstream.url}/direct`).then((r) => r.text());
    expect(findIn('planted response', planted, [plantedPassword, plantedToken]).length).toBe(2);

    const scanned = await scanSystem(sys, needles, startedAt);
    expect(scanned.kafkaMessages).toBeGreaterThan(0);
    const answered = responses.flatMap((r) => findIn('agent response', r, [...needles, ...reflectedForms]));
    expect([...scanned.findings, ...answered]).toEqual([]);
  }, 180000);
});
