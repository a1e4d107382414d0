import { leaseAssociatedData, seal } from '@airlock/sealing';
import { uuidv7, type VaultLeaseReply, type VaultLeaseRequest } from '@airlock/contracts';
import type { IngressConfig } from '../config';
import type { IngressRpc } from '../rpc/ingress-rpc';
import { LeaseClient } from './lease.client';

const config = { INSTANCE_ID: 'ingress-test', VAULT_TIMEOUT_MS: 1000, LEASE_REFRESH_MARGIN_MS: 5000 } as IngressConfig;

function vault(now: () => number, ttlMs = 60000) {
  let version = 1;
  const requests: VaultLeaseRequest[] = [];
  const rpc = {
    request: jest.fn(async (_topic: string, _key: string, req: VaultLeaseRequest): Promise<VaultLeaseReply> => {
      requests.push(req);
      const leaseId = uuidv7();
      const secret = { kind: 'bearer', token: `token-v${version}` };
      const binding = {
        requestId: req.requestId,
        leaseId,
        connection: req.connection,
        protocol: 'http' as const,
        upstream: 'http://127.0.0.1:1',
        credentialKind: 'bearer' as const,
        agentCredentialHeaders: ['authorization'],
        expiresAt: new Date(now() + ttlMs).toISOString(),
        secretVersion: version,
      };
      return {
        ...binding,
        sealed: seal(req.publicKey, Buffer.from(JSON.stringify(secret)), leaseAssociatedData(binding)),
      };
    }),
  };
  return { rpc, requests, rotate: () => version++ };
}

describe('lease client', () => {
  it('unseals the credential with its own key and reuses the lease until near its end', async () => {
    let now = Date.UTC(2026, 10, 25);
    const v = vault(() => now);
    const c = new LeaseClient(v.rpc as unknown as IngressRpc, config, () => now);
    const a = await c.lease('secure');
    expect(a.secret).toEqual({ kind: 'bearer', token: 'token-v1' });
    expect(v.requests[0].publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    now += 50000;
    expect(await c.lease('secure')).toBe(a);
    now += 5001; // within the refresh margin of a 60 s lease: never used again
    const b = await c.lease('secure');
    expect(b.leaseId).not.toBe(a.leaseId);
    expect(v.rpc.request).toHaveBeenCalledTimes(2);
  });

  it('shares one vault request among concurrent callers', async () => {
    const now = Date.now();
    const v = vault(() => now);
    const c = new LeaseClient(v.rpc as unknown as IngressRpc, config, () => now);
    const all = await Promise.all([c.lease('x'), c.lease('x'), c.lease('x')]);
    expect(new Set(all.map((l) => l.leaseId)).size).toBe(1);
    expect(v.rpc.request).toHaveBeenCalledTimes(1);
  });

  it('drops the cached lease on rotation and fetches the new secret', async () => {
    const now = Date.now();
    const v = vault(() => now);
    const c = new LeaseClient(v.rpc as unknown as IngressRpc, config, () => now);
    expect((await c.lease('secure')).secret).toEqual({ kind: 'bearer', token: 'token-v1' });
    v.rotate();
    c.rotated('secure', 2);
    expect((await c.lease('secure')).secret).toEqual({ kind: 'bearer', token: 'token-v2' });
  });

  it('refuses a lease that arrives already expired, and a tampered one', async () => {
    const now = Date.now();
    const expired = vault(() => now, 1000);
    const c = new LeaseClient(expired.rpc as unknown as IngressRpc, config, () => now);
    await expect(c.lease('secure')).rejects.toThrow(/expired/);

    const v = vault(() => now);
    const inner = v.rpc.request.getMockImplementation()!;
    v.rpc.request.mockImplementation(async (t, k, req) => {
      const reply = await inner(t, k, req);
      return { ...reply, upstream: 'http://attacker.example' }; // a redirected reply no longer opens
    });
    const d = new LeaseClient(v.rpc as unknown as IngressRpc, config, () => now);
    await expect(d.lease('secure')).rejects.toThrow();
  });
});
