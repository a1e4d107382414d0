import { Masker, resolveMaskingRules } from './index';
import { Fakes } from '../test/fakes';

describe('Masker', () => {
  const fakes = new Fakes();
  const ghp = fakes.github();
  const akid = fakes.awsAccessKeyId();
  const secrets = new Masker(resolveMaskingRules(['secrets']));

  describe('maskText', () => {
    it('replaces only the secret, keeping the text around it', () => {
      expect(secrets.maskText(`before ${ghp} after`)).toEqual({
        text: 'before [MASKED:github-token] after',
        counts: { 'github-token': 1 },
      });
    });

    it('counts every masked value per rule, never the values', () => {
      const { text, counts } = secrets.maskText(`${ghp} ${akid} ${fakes.github()} password=x1`);
      expect(counts).toEqual({ 'github-token': 2, 'aws-access-key-id': 1, 'secret-assignment': 1 });
      expect(JSON.stringify(counts)).not.toContain(ghp);
      expect(text).not.toContain(ghp);
    });

    it('returns the very same string when nothing matches', () => {
      const text = 'nothing to see here: ids 12, 13 and a uuid 3f2b1c9e-1d2a-4b5c-8d7e-0a1b2c3d4e5f';
      const result = secrets.maskText(text);
      expect(result.text).toBe(text);
      expect(result.counts).toEqual({});
    });

    it('masks each character at most once where detectors overlap', () => {
      // The URI password is a GitHub token too: one mask, by the more specific detector.
      const { text, counts } = secrets.maskText(`https://x:${ghp}@github.com/o/r`);
      expect(text).toBe('https://x:[MASKED:github-token]@github.com/o/r');
      expect(counts).toEqual({ 'github-token': 1 });
    });

    it('does not apply field rules to text', () => {
      const fields = new Masker(resolveMaskingRules(['fields']));
      expect(fields.maskText(`password ${ghp}`).counts).toEqual({});
    });

    it('produces masks without quotes or backslashes', () => {
      const { text } = secrets.maskText(`"${ghp}"`);
      expect(text).toBe('"[MASKED:github-token]"');
      expect(JSON.parse(text)).toBe('[MASKED:github-token]');
    });
  });

  describe('maskJson', () => {
    const masker = new Masker(resolveMaskingRules(['secrets', 'field:ssn']));

    it('masks field values whatever their type, at any depth and in any spelling', () => {
      const input = {
        password: 'hunter2',
        apiKey: 12345,
        'API-KEY': true,
        Secret: null,
        credentials: { user: 'a', nested: [1, 2, { x: 'y' }] },
        tokens: ['not', 'a', 'field'],
        a: { b: { c: { d: { ssn: '123-45-6789', other: 'kept' } } } },
      };
      const { value, counts } = masker.maskJson(input);
      expect(value).toEqual({
        password: '[MASKED:field:password]',
        apiKey: '[MASKED:field:apikey]',
        'API-KEY': '[MASKED:field:apikey]',
        Secret: '[MASKED:field:secret]',
        credentials: '[MASKED:field:credentials]',
        tokens: ['not', 'a', 'field'],
        a: { b: { c: { d: { ssn: '[MASKED:field:ssn]', other: 'kept' } } } },
      });
      expect(counts).toEqual({
        'field:password': 1,
        'field:apikey': 2,
        'field:secret': 1,
        'field:credentials': 1,
        'field:ssn': 1,
      });
    });

    it('finds a field at depth 5 inside arrays', () => {
      const input = [{ l1: [{ l2: { l3: [{ token: { deep: 'x' } }] } }] }];
      expect(masker.maskJson(input).value).toEqual([{ l1: [{ l2: { l3: [{ token: '[MASKED:field:token]' }] } }] }]);
    });

    it('runs detectors over every string, keeping the rest of each string', () => {
      const input = { log: [`pushed with ${ghp} at noon`, 42], note: { text: `key ${akid}.` } };
      const { value, counts } = masker.maskJson(input);
      expect(value).toEqual({
        log: ['pushed with [MASKED:github-token] at noon', 42],
        note: { text: 'key [MASKED:aws-access-key-id].' },
      });
      expect(counts).toEqual({ 'github-token': 1, 'aws-access-key-id': 1 });
    });

    it('masks secrets used as object keys', () => {
      const { value } = masker.maskJson({ [ghp]: { scopes: ['repo'] } });
      expect(value).toEqual({ '[MASKED:github-token]': { scopes: ['repo'] } });
    });

    it('leaves its input alone and shares what did not change', () => {
      const untouched = { a: [1, 2, 3], b: 'plain' };
      const input = { keep: untouched, token: 'x' };
      const snapshot = JSON.parse(JSON.stringify(input)) as unknown;
      const { value } = masker.maskJson(input);
      expect(input).toEqual(snapshot);
      expect((value as { keep: unknown }).keep).toBe(untouched);
      const same = { a: 1, b: ['x'] };
      expect(masker.maskJson(same).value).toBe(same);
    });

    it('keeps a __proto__ key an ordinary property', () => {
      const input = JSON.parse(`{"__proto__": {"polluted": true}, "token": "x"}`) as unknown;
      const value = masker.maskJson(input).value as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.keys(value)).toEqual(['__proto__', 'token']);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('walks nesting deeper than the call stack', () => {
      const depth = 100_000;
      const value = JSON.parse(`${'{"a":['.repeat(depth)}{"token": 1, "t": "${ghp}"}${']}'.repeat(depth)}`) as unknown;
      const { counts } = masker.maskJson(value);
      expect(counts).toEqual({ 'field:token': 1, 'github-token': 1 });
    });

    it('passes scalars and top-level strings', () => {
      expect(masker.maskJson(7).value).toBe(7);
      expect(masker.maskJson(null).value).toBeNull();
      expect(masker.maskJson(ghp).value).toBe('[MASKED:github-token]');
    });

    it('does nothing when masking is off', () => {
      const off = new Masker({ fieldNames: [], detectors: [] });
      const input = { password: ghp };
      expect(off.enabled).toBe(false);
      expect(off.maskJson(input)).toEqual({ value: input, counts: {} });
      expect(off.maskText(ghp)).toEqual({ text: ghp, counts: {} });
    });
  });
});
