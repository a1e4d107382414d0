import { auditOwnershipViolation } from './audit-ownership';
import { AuditEventSchema, type AuditEvent } from './audit';
import { isAuditEvent } from './audit-check';
import { canonicalJsonOfParsed } from './canonical-json';
import { Topics } from './topics';
import { ContractViolation, parseContract } from './validation';

/** An audit message the recorder can store: the event, the text as it arrived, its canonical form. */
export interface AcceptedAuditMessage {
  /** The event as it arrived, checked against the contract (fields it does not know included). */
  event: AuditEvent;
  /** The message text exactly as it arrived: what the store keeps. */
  raw: string;
  /** The event in RFC 8785 canonical form: what its chain link hashes. */
  canonical: string;
}

/**
 * Exactly what the recorder accepts from `airlock.audit`: JSON, no U+0000 in any string (the
 * store cannot hold it), the audit contract, and a canonical form (which refuses lone
 * surrogates). Anything else is a ContractViolation that names the reason. Producers can run
 * what they publish through it to know the recorder will take it.
 */
export function acceptAuditMessage(value: Buffer | string | null): AcceptedAuditMessage {
  if (value === null) throw new ContractViolation(Topics.Audit, 'empty message');
  const raw = typeof value === 'string' ? value : value.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ContractViolation(Topics.Audit, 'not valid JSON');
  }
  if (raw.includes('\\u0000') && holdsNul(parsed)) throw new ContractViolation(Topics.Audit, 'a string holds U+0000');
  // The compiled check answers for the contract; zod is asked only to say what is wrong.
  const event = isAuditEvent(parsed) ? parsed : parseContract(Topics.Audit, AuditEventSchema, parsed);
  let canonical: string;
  try {
    canonical = canonicalJsonOfParsed(parsed, raw);
  } catch (err) {
    throw new ContractViolation(Topics.Audit, (err as Error).message);
  }
  // A service writes only its own event types: an ingress event from the policy service is forged.
  const notOwned = auditOwnershipViolation(event);
  if (notOwned) throw new ContractViolation(Topics.Audit, notOwned);
  return { event, raw, canonical };
}

function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (Array.isArray(value)) return value.some(holdsNul);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.includes('\0') || holdsNul(v));
  }
  return false;
}
