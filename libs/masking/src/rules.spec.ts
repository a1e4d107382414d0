import {
  DEFAULT_FIELD_NAMES,
  DETECTOR_IDS,
  Masker,
  MaskingRuleError,
  PII_DETECTOR_IDS,
  SECRET_DETECTOR_IDS,
  normaliseFieldName,
  resolveMaskingRules,
} from './index';

describe('normaliseFieldName', () => {
  it('lowercases ASCII letters and drops dashes and underscores', () => {
    for (const name of ['apiKey', 'API-KEY', 'api_key', 'ApI__kEy', '-api-key-']) {
      expect(normaliseFieldName(name)).toBe('apikey');
    }
  });

  it('leaves other characters as they are', () => {
    expect(normaliseFieldName('Pass.Wörd')).toBe('pass.wörd');
  });
});

describe('resolveMaskingRules', () => {
  const defaultFields = [...new Set(DEFAULT_FIELD_NAMES.map(normaliseFieldName))];

  it('maps secrets (and default) to every secret detector and the default fields', () => {
    for (const name of ['secrets', 'default']) {
      const config = resolveMaskingRules([name]);
      expect(config.detectors).toEqual([...SECRET_DETECTOR_IDS]);
      expect(config.fieldNames.sort()).toEqual([...defaultFields].sort());
    }
  });

  it('maps pii to the personal data detectors only', () => {
    expect(resolveMaskingRules(['pii'])).toEqual({ fieldNames: [], detectors: [...PII_DETECTOR_IDS] });
  });

  it('maps fields to the default field names only', () => {
    const config = resolveMaskingRules(['fields']);
    expect(config.detectors).toEqual([]);
    expect(config.fieldNames.sort()).toEqual([...defaultFields].sort());
  });

  it('takes single detectors and field names, normalised and without duplicates', () => {
    expect(resolveMaskingRules(['jwt', 'github-token', 'field:SSN', 'field:s_s_n', 'jwt'])).toEqual({
      fieldNames: ['ssn'],
      detectors: ['github-token', 'jwt'],
    });
  });

  it('knows every detector id', () => {
    for (const id of DETECTOR_IDS) expect(resolveMaskingRules([id]).detectors).toEqual([id]);
  });

  it('combines bundles, keeping detectors in priority order', () => {
    const config = resolveMaskingRules(['pii', 'secrets']);
    expect(config.detectors).toEqual([...DETECTOR_IDS]);
  });

  it('refuses unknown names with an error that names the rule and what is allowed', () => {
    expect(() => resolveMaskingRules(['secrets', 'secret'])).toThrow(MaskingRuleError);
    expect(() => resolveMaskingRules(['github'])).toThrow(
      /masking rule "github": unknown rule; expected one of secrets/,
    );
    expect(() => resolveMaskingRules(['field:'])).toThrow(/masking rule "field:"/);
    expect(() => resolveMaskingRules(['field:a"b'])).toThrow(MaskingRuleError);
    expect(() => resolveMaskingRules(['field:--'])).toThrow(/only "-" and "_"/);
  });

  it('resolves nothing to a masker that is off', () => {
    const config = resolveMaskingRules([]);
    expect(config).toEqual({ fieldNames: [], detectors: [] });
    expect(new Masker(config).enabled).toBe(false);
  });

  it('refuses a configuration with an unknown detector', () => {
    expect(() => new Masker({ fieldNames: [], detectors: ['nope'] })).toThrow(/masking rule "nope": unknown detector/);
  });
});
