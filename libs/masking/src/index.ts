export {
  DEFAULT_FIELD_NAMES,
  DETECTOR_IDS,
  MASKING_BUNDLES,
  MaskingRuleError,
  PII_DETECTOR_IDS,
  SECRET_DETECTOR_IDS,
  columnRuleId,
  fieldRuleId,
  maskToken,
  normaliseFieldName,
  resolveMaskingRules,
  type DetectorId,
  type MaskingConfig,
  type PiiDetectorId,
  type SecretDetectorId,
} from './rules';
export { Masker, type JsonMaskResult, type MaskCounts, type TextMaskResult } from './masker';
export { MaskingStream, createMaskingStream } from './stream';
export { classifyContentType, type BodyKind } from './content-type';
export {
  CREDENTIAL_RULE,
  CredentialNeedles,
  CredentialScrubStream,
  CredentialScrubber,
  MIN_SECRET_BYTES,
  encodingsOf,
} from './credential-scrub';
