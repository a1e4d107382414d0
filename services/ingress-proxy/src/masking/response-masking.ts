import { Injectable } from '@nestjs/common';
import type { Readable, Transform } from 'node:stream';
import type { LeaseSecret } from '@airlock/contracts';
import {
  CredentialNeedles,
  CredentialScrubStream,
  Masker,
  classifyContentType,
  createMaskingStream,
  resolveMaskingRules,
} from '@airlock/masking';
import { injectedSecrets } from '../credentials/credential-injector';

/** A policy masking rule that refuses binary responses instead of passing them untouched. */
export const BLOCK_BINARY = 'block-binary';

export interface MaskedBody {
  body: Readable;
  /** Counts per rule, complete once the body has ended. */
  counts(): Record<string, number>;
}

export interface HeaderRules {
  /** The credential the gateway injected: scrubbed from every header. */
  needles?: CredentialNeedles;
  /** The policy's masker: its detectors run over every header. */
  masker?: Masker;
  /** Whether the upstream may set cookies on the agent. */
  allowSetCookie: boolean;
}

/** Maskers per set of policy masking rules, built once and reused. */
@Injectable()
export class ResponseMasking {
  private readonly maskers = new Map<string, Masker>();
  /** Needles per leased secret: a lease's secret object lives as long as the lease is cached. */
  private readonly needlesBySecret = new WeakMap<LeaseSecret, CredentialNeedles>();

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

  /** What to scrub from a response to a request that carried this credential. */
  needles(secret: LeaseSecret): CredentialNeedles {
    let n = this.needlesBySecret.get(secret);
    if (!n) {
      n = new CredentialNeedles(injectedSecrets(secret));
      this.needlesBySecret.set(secret, n);
    }
    return n;
  }

  /** Binary bodies pass untouched, unless the policy's rules say to block them. */
  blocksBinary(policyRules: readonly string[], contentType: string | undefined): boolean {
    return policyRules.includes(BLOCK_BINARY) && classifyContentType(contentType) === 'binary';
  }

  /**
   * Puts the response body through the credential scrub (when there is a credential) and then the
   * masker (when policy asks for one), byte stream in, byte stream out.
   */
  mask(
    masker: Masker | undefined,
    needles: CredentialNeedles | undefined,
    body: Readable,
    contentType: string | undefined,
  ): MaskedBody {
    let out = body;
    const parts: Array<{ counts: Record<string, number> }> = [];
    const through = (stream: Transform & { counts: Record<string, number> }): void => {
      out.on('error', (err) => stream.destroy(err));
      out = out.pipe(stream);
      parts.push(stream);
    };
    if (needles && !needles.empty) through(new CredentialScrubStream(needles));
    if (masker) through(createMaskingStream(masker, contentType));
    return { body: out, counts: () => sumCounts(parts.map((p) => p.counts)) };
  }

  /**
   * The upstream's response headers as the agent may see them: Set-Cookie dropped unless
   * allowed, the injected credential scrubbed from every other value and the detectors run over
   * them. Counts go to `counts`; the input is not modified.
   */
  maskHeaders(
    headers: Readonly<Record<string, string | string[]>>,
    rules: HeaderRules,
    counts: Record<string, number>,
  ): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name === 'set-cookie' && !rules.allowSetCookie) continue;
      const one = (v: string): string => {
        let s = rules.needles ? rules.needles.scrubString(v, counts) : v;
        if (rules.masker) s = rules.masker.maskValue(s, counts);
        return s;
      };
      out[name] = Array.isArray(value) ? value.map(one) : one(value);
    }
    return out;
  }
}

function sumCounts(all: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const counts of all) for (const [rule, n] of Object.entries(counts)) sum[rule] = (sum[rule] ?? 0) + n;
  return sum;
}
