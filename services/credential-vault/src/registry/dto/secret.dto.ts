import { z } from 'zod';
import { LeaseSecretSchema, type CredentialKind, type LeaseSecret } from '@airlock/contracts';
import { InvalidInputError, parseInput } from '../../errors';

/** A stored secret's JSON may not exceed this. */
export const MAX_SECRET_BYTES = 16 * 1024;

type SecretMember = (typeof LeaseSecretSchema.options)[number];

/**
 * The body of `PUT /connections/:name/secret` for each credential kind: the kind's fields from
 * the lease secret contract, nothing else (a misspelt field is refused, not ignored). `kind`
 * may be given; it must then be the connection's.
 */
const BODY_BY_KIND = new Map<CredentialKind, z.ZodType>(
  LeaseSecretSchema.options.map((member: SecretMember) => [
    member.shape.kind.value,
    member.extend({ kind: member.shape.kind.optional() }).strict(),
  ]),
);

/** Checks an admin's secret fields against the connection's kind and returns the lease secret to store. */
export function parseSecretFields(kind: CredentialKind, body: unknown): LeaseSecret {
  const schema = BODY_BY_KIND.get(kind);
  if (!schema) throw new InvalidInputError(`credentialKind: ${kind} is not supported`);
  const fields = parseInput(schema, body) as Record<string, unknown>;
  const secret = parseInput(LeaseSecretSchema, { ...fields, kind });
  if (Buffer.byteLength(JSON.stringify(secret)) > MAX_SECRET_BYTES) {
    throw new InvalidInputError(`body: a secret is at most ${MAX_SECRET_BYTES} bytes of JSON`);
  }
  return secret;
}
