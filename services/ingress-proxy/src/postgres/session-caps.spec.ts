import { SessionCaps } from './session-caps';

const alice = { issuer: 'https://idp', subject: 'alice', groups: [] };
const bob = { issuer: 'https://idp', subject: 'bob', groups: [] };
const otherAlice = { issuer: 'https://other-idp', subject: 'alice', groups: [] };

describe('session caps', () => {
  it('refuses past the cap per principal, counting each issuer apart, and frees a slot on release', () => {
    const caps = new SessionCaps({ perPrincipal: 2, perConnection: 100 });
    const a1 = caps.take(alice, 'db');
    const a2 = caps.take(alice, 'other');
    expect(a1.ok && a2.ok).toBe(true);
    expect(caps.take(alice, 'db')).toEqual({
      ok: false,
      message: 'too many sessions for alice: at most 2 at once through this gateway',
    });
    expect(caps.take(otherAlice, 'db').ok).toBe(true);
    if (a1.ok) a1.release();
    expect(caps.take(alice, 'db').ok).toBe(true);
  });

  it('refuses past the cap per connection, whoever asks', () => {
    const caps = new SessionCaps({ perPrincipal: 100, perConnection: 2 });
    const taken = [caps.take(alice, 'db'), caps.take(bob, 'db')];
    expect(caps.take(bob, 'db')).toEqual({
      ok: false,
      message: 'too many sessions on connection "db": at most 2 at once through this gateway',
    });
    expect(caps.take(bob, 'elsewhere').ok).toBe(true);
    for (const t of taken) if (t.ok) t.release();
    expect(caps.take(bob, 'db').ok).toBe(true);
  });

  it('counts a release once, however often it is called, and forgets empty counters', () => {
    const caps = new SessionCaps({ perPrincipal: 1, perConnection: 1 });
    const t = caps.take(alice, 'db');
    if (!t.ok) throw new Error('expected a slot');
    t.release();
    t.release();
    expect(caps.size).toEqual({ principals: 0, connections: 0 });
    const again = caps.take(alice, 'db');
    expect(again.ok).toBe(true);
    expect(caps.take(alice, 'db').ok).toBe(false);
    expect(caps.size).toEqual({ principals: 1, connections: 1 });
  });

  it('takes nothing when the second counter refuses', () => {
    const caps = new SessionCaps({ perPrincipal: 5, perConnection: 1 });
    expect(caps.take(alice, 'db').ok).toBe(true);
    expect(caps.take(bob, 'db').ok).toBe(false);
    expect(caps.size).toEqual({ principals: 1, connections: 1 });
  });
});
