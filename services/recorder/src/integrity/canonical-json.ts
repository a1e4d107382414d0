// The canonical form is part of the audit contract (SIEM consumers recompute the chain hashes).
export { CanonicalJsonError, canonicalJson } from '@airlock/contracts';
