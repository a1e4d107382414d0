import { createHmac, randomBytes } from 'node:crypto';
import { PublicError } from '@airlock/runtime';
import { LinkTokens, signLink, verifyLink, type LinkClaims } from './link-tokens';

const key = randomBytes(32);
const T0 = 1_800_000_000_000;
const claims: LinkClaims = {
  a: '0190a0b0-1c2d-7e3f-8a4b-5c6d7e8f9a0b',
  act: 'approve',
  exp: T0 + 60_000,
  jti: 'AAAAAAAAAAAAAAAAAAAAAA',
};

function refusal(fn: () => unknown): { status: number; code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof PublicError) return { status: err.status, code: err.code, message: err.publicMessage };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('signed approval links', () => {
  it('give back what was signed, until their time', () => {
    const token = signLink(key, claims);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyLink(key, token, T0)).toEqual(claims);
    expect(verifyLink(key, token, claims.exp - 1)).toEqual(claims);
  });

  it('expire at their time with 410 link_expired', () => {
    const token = signLink(key, claims);
    expect(refusal(() => verifyLink(key, token, claims.exp))).toMatchObject({ status: 410, code: 'link_expired' });
  });

  it('refuse a changed payload, a changed signature and another key with 403', () => {
    const token = signLink(key, claims);
    const [payload, signature] = token.split('.');
    const denyPayload = Buffer.from(JSON.stringify({ ...claims, act: 'deny' })).toString('base64url');
    const later = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp * 2 })).toString('base64url');
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
    for (const forged of [`${denyPayload}.${signature}`, `${later}.${signature}`, `${payload}.${flipped}`]) {
      expect(refusal(() => verifyLink(key, forged, T0))).toMatchObject({ status: 403, code: 'link_invalid' });
    }
    expect(refusal(() => verifyLink(randomBytes(32), token, T0))).toMatchObject({ status: 403 });
  });

  it('refuse what is not a link with 400', () => {
    for (const bad of ['', 'abc', 'a.b.c', 'a b.c', `${'x'.repeat(2000)}.y`]) {
      expect(refusal(() => verifyLink(key, bad, T0))).toMatchObject({ status: 400, code: 'link_invalid' });
    }
  });

  it('trust a good signature only over claims of the right shape', () => {
    const sign = (body: string) => {
      const payload = Buffer.from(body).toString('base64url');
      return `${payload}.${createHmac('sha256', key).update(payload).digest('base64url')}`;
    };
    for (const body of [
      'not json',
      JSON.stringify({ ...claims, act: 'delete' }),
      JSON.stringify({ ...claims, x: 1 }),
    ]) {
      expect(refusal(() => verifyLink(key, sign(body), T0))).toMatchObject({ status: 400, code: 'link_invalid' });
    }
    expect(verifyLink(key, sign(JSON.stringify(claims)), T0)).toEqual(claims);
  });

  it('signs each link with a fresh id, expiring with its approval', () => {
    const links = new LinkTokens({ APPROVAL_LINK_KEY: key.toString('base64') });
    const expiresAt = new Date(T0 + 5000);
    const one = links.verify(links.create(claims.a, 'deny', expiresAt), T0);
    const two = links.verify(links.create(claims.a, 'deny', expiresAt), T0);
    expect(one).toMatchObject({ a: claims.a, act: 'deny', exp: T0 + 5000 });
    expect(one.jti).not.toBe(two.jti);
  });
});
