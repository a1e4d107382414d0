import { Injectable } from '@nestjs/common';
import type { Readable, Transform } from 'node:stream';
import { Masker, classifyContentType, createMaskingStream, resolveMaskingRules } from '@airlock/masking';

/** A policy masking rule that refuses binary responses instead of passing them untouched. */
export const BLOCK_BINARY = 'block-binary';

export interface MaskedBody {
  body: Readable;
  /** Counts per rule, complete once the body has ended. */
  counts(): Record<string, number>;
}

/** Maskers per set of policy masking rules, built once and reused. */
@Injectable()
export class ResponseMasking {
  private readonly maskers = new Map<string, Masker>();

  /** Throws when the policy names a rule this gateway does not know: the caller refuses. */
  masker(policyRules: readonly string[]): Masker | undefined {
    const rules = policyRules.filter((r) => r !== BLOCK_BINARY);
    if (rules.length === 0) return undefined;
    const key = [...rules].sort().join('\u0000');
    let m = this.maskers.get(key);
    if (!m) {
      m = new Masker(resolveMaskingRules([...rules]));
      this.maskers.set(key, m);
    }
    return m.enabled ? m : undefined;
  }

  /** Binary bodies pass untouched, unless the policy's rules say to block them. */
  blocksBinary(policyRules: readonly string[], contentType: string | undefined): boolean {
    return policyRules.includes(BLOCK_BINARY) && classifyContentType(contentType) === 'binary';
  }

  /** Puts the response body through the masker, byte stream in, byte stream out. */
  mask(masker: Masker, body: Readable, contentType: string | undefined): MaskedBody {
    const stream: Transform & { counts: Record<string, number> } = createMaskingStream(masker, contentType);
    body.on('error', (err) => stream.destroy(err));
    return { body: body.pipe(stream), counts: () => ({ ...stream.counts }) };
  }
}
