import { createHash } from 'node:crypto';
import { PgProtocolError, ScramSha256Client, md5PasswordResponse } from './index';

// RFC 7677, section 3.
const CLIENT_NONCE = 'rOprNGfwEbeRWgbNEkqO';
const SERVER_FIRST = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
const CLIENT_FINAL =
  'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=';
// The RFC prints "v=6rriTRBi23WpRR/wtup+mMhK1/9Ml1PQOjjhFEjxNGqY=", 45 base64 characters that cannot be a
// 32-byte HMAC (a known erratum); this is the signature its own inputs produce.
const SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';
const RFC_MISPRINTED_SERVER_FINAL = 'v=6rriTRBi23WpRR/wtup+mMhK1/9Ml1PQOjjhFEjxNGqY=';

function rfcClient(): ScramSha256Client {
  return new ScramSha256Client('pencil', Buffer.from(CLIENT_NONCE), { username: 'user' });
}

/** Calls `fn` once: the client is a state machine, a second call would test something else. */
function thrownBy(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function expectAuthFailure(fn: () => void, message: RegExp): void {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(PgProtocolError);
  expect((err as PgProtocolError).message).toMatch(message);
}

describe('ScramSha256Client', () => {
  it('reproduces the RFC 7677 exchange', () => {
    const client = rfcClient();
    expect(client.mechanism).toBe('SCRAM-SHA-256');
    expect(client.clientFirstMessage().toString()).toBe(`n,,n=user,r=${CLIENT_NONCE}`);
    expect(client.handleServerFirst(Buffer.from(SERVER_FIRST)).toString()).toBe(CLIENT_FINAL);
    expect(() => client.verifyServerFinal(Buffer.from(SERVER_FINAL))).not.toThrow();
  });

  it('sends an empty user name by default, as PostgreSQL expects', () => {
    const client = new ScramSha256Client('pencil', Buffer.from(CLIENT_NONCE));
    expect(client.clientFirstMessage().toString()).toBe(`n,,n=,r=${CLIENT_NONCE}`);
    // The auth message changes with the user name, so the RFC proof must not come out.
    expect(client.handleServerFirst(Buffer.from(SERVER_FIRST)).toString()).not.toBe(CLIENT_FINAL);
  });

  it('escapes "=" and "," in a user name', () => {
    const client = new ScramSha256Client('p', Buffer.from('abc'), { username: 'a=b,c' });
    expect(client.clientFirstMessage().toString()).toBe('n,,n=a=3Db=2Cc,r=abc');
  });

  it('makes a fresh printable nonce when none is given', () => {
    const a = new ScramSha256Client('p').clientFirstMessage().toString();
    const b = new ScramSha256Client('p').clientFirstMessage().toString();
    expect(a).toMatch(/^n,,n=,r=[A-Za-z0-9+/=]{24}$/);
    expect(a).not.toBe(b);
  });

  it('rejects a wrong server signature with 28P01', () => {
    const client = rfcClient();
    client.clientFirstMessage();
    client.handleServerFirst(Buffer.from(SERVER_FIRST));
    const forged = Buffer.from(SERVER_FINAL.replace('v=6', 'v=7'));
    const caught = thrownBy(() => client.verifyServerFinal(forged));
    expect(caught).toBeInstanceOf(PgProtocolError);
    expect(caught).toMatchObject({ sqlstate: '28P01', message: expect.stringMatching(/signature does not match/) });
  });

  it('rejects a server signature of the wrong length', () => {
    const client = rfcClient();
    client.clientFirstMessage();
    client.handleServerFirst(Buffer.from(SERVER_FIRST));
    expectAuthFailure(() => client.verifyServerFinal(Buffer.from('v=AAAA')), /does not match/);
  });

  it("rejects the RFC's misprinted server signature", () => {
    const client = rfcClient();
    client.clientFirstMessage();
    client.handleServerFirst(Buffer.from(SERVER_FIRST));
    expect(() => client.verifyServerFinal(Buffer.from(RFC_MISPRINTED_SERVER_FINAL))).toThrow(PgProtocolError);
  });

  it('reports a server-final error as an authentication failure', () => {
    const client = rfcClient();
    client.clientFirstMessage();
    client.handleServerFirst(Buffer.from(SERVER_FIRST));
    expect(() => client.verifyServerFinal(Buffer.from('e=invalid-proof'))).toThrow(
      expect.objectContaining({ sqlstate: '28P01', message: expect.stringContaining('invalid-proof') }),
    );
  });

  it.each([
    ['a nonce that does not extend ours', 'r=somethingElse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096', /nonce/],
    ['a nonce equal to ours', `r=${CLIENT_NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, /nonce/],
    ['too few iterations', `r=${CLIENT_NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=999`, /too low/],
    ['too many iterations', `r=${CLIENT_NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1000001`, /too high/],
    ['a non-numeric iteration count', `r=${CLIENT_NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4e3`, /iteration/],
    ['a salt that is not base64', `r=${CLIENT_NONCE}x,s=not*base64,i=4096`, /salt/],
    ['an empty salt', `r=${CLIENT_NONCE}x,s=,i=4096`, /salt/],
    ['a mandatory extension', `m=ext,r=${CLIENT_NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096`, /"r"/],
    ['a missing iteration count', `r=${CLIENT_NONCE}x,s=W22ZaJ0SNY7soEsUEjb6gQ==`, /"i"/],
  ])('refuses a server-first message with %s', (_what, serverFirst, message) => {
    const client = rfcClient();
    client.clientFirstMessage();
    expectAuthFailure(() => client.handleServerFirst(Buffer.from(serverFirst)), message);
  });

  it('accepts extensions after the iteration count', () => {
    const client = rfcClient();
    client.clientFirstMessage();
    expect(client.handleServerFirst(Buffer.from(`${SERVER_FIRST},x=ext`)).toString()).toMatch(/^c=biws,r=/);
  });

  it('refuses messages out of order', () => {
    const client = rfcClient();
    expect(() => client.handleServerFirst(Buffer.from(SERVER_FIRST))).toThrow(PgProtocolError);
    expect(() => client.verifyServerFinal(Buffer.from(SERVER_FINAL))).toThrow(PgProtocolError);
    client.clientFirstMessage();
    expect(() => client.clientFirstMessage()).toThrow(PgProtocolError);
    expect(() => client.verifyServerFinal(Buffer.from(SERVER_FINAL))).toThrow(PgProtocolError);
  });

  it('cannot be verified twice', () => {
    const client = rfcClient();
    client.clientFirstMessage();
    client.handleServerFirst(Buffer.from(SERVER_FIRST));
    client.verifyServerFinal(Buffer.from(SERVER_FINAL));
    expect(() => client.verifyServerFinal(Buffer.from(SERVER_FINAL))).toThrow(PgProtocolError);
  });

  it('refuses a nonce that could not be sent', () => {
    expect(() => new ScramSha256Client('p', Buffer.from('a,b'))).toThrow(RangeError);
    expect(() => new ScramSha256Client('p', Buffer.alloc(0))).toThrow(RangeError);
  });
});

describe('md5PasswordResponse', () => {
  const md5 = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');

  it('hashes password and user, then the hex digest with the salt', () => {
    const salt = Buffer.from([0x01, 0xab, 0x00, 0xff]);
    const inner = md5('s3cretalice');
    const expected = 'md5' + md5(Buffer.concat([Buffer.from(inner), salt]));
    expect(md5PasswordResponse('alice', 's3cret', salt)).toBe(expected);
    expect(md5PasswordResponse('alice', 's3cret', salt)).toMatch(/^md5[0-9a-f]{32}$/);
  });

  it('matches a value PostgreSQL stores for user "postgres", password "postgres"', () => {
    // pg_authid.rolpassword for that pair is "md5" + md5("postgrespostgres").
    expect(md5('postgrespostgres')).toBe('3175bce1d3201d16594cebf9d7eb3f9d');
    const salt = Buffer.from('abcd');
    expect(md5PasswordResponse('postgres', 'postgres', salt)).toBe(
      'md5' + md5('3175bce1d3201d16594cebf9d7eb3f9d' + 'abcd'),
    );
  });
});
