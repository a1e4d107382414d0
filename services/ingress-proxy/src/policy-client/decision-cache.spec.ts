import type { PolicyDecision } from '@airlock/contracts';
import { DecisionCache } from './decision-cache';

const decision = (v: string): PolicyDecision => ({
  requestId: '00000000-0000-7000-8000-000000000000',
  decision: 'allow',
  reason: 'r',
  policyVersion: v,
  masking: [],
});

describe('decision cache', () => {
  it('expires entries after the TTL, by the injected clock', () => {
    let now = 1000;
    const c = new DecisionCache(10, 500, () => now);
    c.set('k', decision('v1'), c.generation);
    expect(c.get('k')?.policyVersion).toBe('v1');
    now = 1499;
    expect(c.get('k')).toBeDefined();
    now = 1500;
    expect(c.get('k')).toBeUndefined();
  });

  it('drops everything on a policy change and refuses answers that were in flight across it', () => {
    const c = new DecisionCache(10, 60000);
    const before = c.generation;
    c.set('a', decision('v1'), before);
    c.invalidate();
    expect(c.get('a')).toBeUndefined();
    c.set('b', decision('v1'), before);
    expect(c.get('b')).toBeUndefined();
    c.set('c', decision('v2'), c.generation);
    expect(c.get('c')?.policyVersion).toBe('v2');
  });

  it('stays within its size, evicting the oldest, and stores nothing when the size is 0', () => {
    const c = new DecisionCache(2, 60000);
    c.set('a', decision('1'), 0);
    c.set('b', decision('2'), 0);
    c.set('c', decision('3'), 0);
    expect(c.size).toBe(2);
    expect(c.get('a')).toBeUndefined();
    const off = new DecisionCache(0, 60000);
    off.set('a', decision('1'), 0);
    expect(off.get('a')).toBeUndefined();
  });
});
