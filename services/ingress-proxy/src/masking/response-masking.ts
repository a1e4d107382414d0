import { Injectable } from '@nestjs/common';
import type { Readable, Transform } from 'node:stream';
import { Masker, createMaskingStream, resolveMaskingRules } from '@airlock/masking';

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
  masker(rules: readonly string[]): Masker | undefined {
    if (rules.length === 0) return undefined;
    const key = [...rules].sort().join('\u0000');
    let m = this.maskers.get(key);
    if (!m) {
      m = new Masker(resolveMaskingRules([...rules]));
      this.maskers.set(key, m);
    }
    return m.enabled ? m : undefined;
  }

  /** Puts the response body through the masker, byte stream in, byte stream out. */
  mask(masker: Masker, body: Readable, contentType: string | undefined): MaskedBody {
    const stream: Transform & { counts: Record<string, number> } = createMaskingStream(masker, contentType);
    body.on('error', (err) => stream.destroy(err));
    return { body: body.pipe(stream), counts: () => ({ ...stream.counts }) };
  }
}
