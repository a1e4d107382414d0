import { uuidv7, type AuditEventDraft, type ServicePrincipal } from '@airlock/contracts';
import { SignatureError, type MessageSigner, type SignatureContext, type TrustedKeys } from '@airlock/sealing';

/** A message refused because its signature was missing or did not verify. */
export interface RejectedMessage {
  topic: string;
  reason: string;
  signer?: string;
  keyId?: string;
  /** Of the operation it belonged to, when known. */
  requestId?: string;
  sessionId?: string;
}

/**
 * What a service does about signatures on Kafka: the key it signs with, the keys it trusts, and
 * what happens to a message that fails the check (log and audit it; the caller then fails closed).
 */
export interface MessageSecurity {
  signer?: MessageSigner;
  trust?: TrustedKeys;
  onRejected?: (rejected: RejectedMessage) => void;
}

/** Checks the signature of `message`; returns the refusal, or undefined when it verifies. */
export function checkSignature(
  trust: TrustedKeys,
  context: SignatureContext,
  message: unknown,
  expected: readonly string[],
): RejectedMessage | undefined {
  try {
    trust.verify(context, message, expected);
    return undefined;
  } catch (err) {
    const claimed = (message as { signature?: { signer?: unknown; keyId?: unknown } } | null)?.signature;
    const fields = (message ?? {}) as { requestId?: unknown; sessionId?: unknown };
    return {
      topic: context.topic,
      reason: err instanceof SignatureError ? err.message : `signature check failed: ${String(err)}`,
      signer: typeof claimed?.signer === 'string' ? claimed.signer.slice(0, 64) : undefined,
      keyId: typeof claimed?.keyId === 'string' ? claimed.keyId.slice(0, 64) : undefined,
      requestId: typeof fields.requestId === 'string' ? fields.requestId : undefined,
      sessionId: typeof fields.sessionId === 'string' ? fields.sessionId : undefined,
    };
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The `message.rejected` audit event a service emits about a refused message. */
export function messageRejectedEvent(
  source: ServicePrincipal,
  rejected: RejectedMessage,
): AuditEventDraft<'message.rejected'> {
  const id = (v: string | undefined): string => (v !== undefined && UUID.test(v) ? v : uuidv7());
  return {
    type: 'message.rejected',
    sessionId: id(rejected.sessionId),
    requestId: id(rejected.requestId),
    actor: null,
    connection: null,
    protocol: 'http',
    source,
    data: {
      topic: rejected.topic,
      reason: rejected.reason,
      ...(rejected.signer !== undefined ? { signer: rejected.signer } : {}),
      ...(rejected.keyId !== undefined ? { keyId: rejected.keyId } : {}),
    },
  };
}
