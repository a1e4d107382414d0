import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { z } from 'zod';
import { IdSchema } from '@airlock/contracts';
import { APPROVAL_CONFIG, type ApprovalConfig } from '../config';
import { ForbiddenError, GoneError, InvalidInputError } from '../errors';

export type LinkAction = 'approve' | 'deny';

/** What a link says: act on approval `a` until `exp` (epoch ms); `jti` makes it single-use. */
export interface LinkClaims {
  a: string;
  act: LinkAction;
  exp: number;
  jti: string;
}

const ClaimsSchema = z
  .object({
    a: IdSchema,
    act: z.enum(['approve', 'deny']),
    exp: z.number().int().positive(),
    jti: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  })
  .strict();

const PART = /^[A-Za-z0-9_-]+$/;
const MAX_TOKEN = 1024;

function mac(key: Buffer, payload: string): Buffer {
  return createHmac('sha256', key).update(payload).digest();
}

/** base64url(JSON claims) . base64url(HMAC-SHA256 of the first part). */
export function signLink(key: Buffer, claims: LinkClaims): string {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

/**
 * The claims of a link this service signed and whose time has not come; otherwise a 400
 * (not a link), 403 (not signed with our key) or 410 (expired). Single use is the caller's
 * job: it records the `jti` with the decision.
 */
export function verifyLink(key: Buffer, token: string, now: number): LinkClaims {
  const parts = token.length <= MAX_TOKEN ? token.split('.') : [];
  if (parts.length !== 2 || !parts.every((p) => PART.test(p))) {
    throw new InvalidInputError('this is not an approval link', 'link_invalid');
  }
  const [payload, signature] = parts;
  const given = Buffer.from(signature, 'base64url');
  const expected = mac(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new ForbiddenError(
      'the approval link does not verify: it was altered or signed with another key',
      'link_invalid',
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidInputError('this is not an approval link', 'link_invalid');
  }
  const claims = ClaimsSchema.safeParse(json);
  if (!claims.success) throw new InvalidInputError('this is not an approval link', 'link_invalid');
  if (now >= claims.data.exp) throw new GoneError('link_expired', 'the approval link has expired');
  return claims.data;
}

/** Signs and checks the single-use links in notifications, with APPROVAL_LINK_KEY. */
@Injectable()
export class LinkTokens {
  private readonly key: Buffer;

  constructor(@Inject(APPROVAL_CONFIG) config: Pick<ApprovalConfig, 'APPROVAL_LINK_KEY'>) {
    this.key = Buffer.from(config.APPROVAL_LINK_KEY, 'base64');
  }

  /** A fresh link: each notice gets its own, so using one never spends another's. */
  create(approvalId: string, act: LinkAction, expiresAt: Date): string {
    return signLink(this.key, {
      a: approvalId,
      act,
      exp: expiresAt.getTime(),
      jti: randomBytes(16).toString('base64url'),
    });
  }

  verify(token: string, now: number): LinkClaims {
    return verifyLink(this.key, token, now);
  }
}
