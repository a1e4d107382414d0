/**
 * Fake secrets for the masking tests, generated at run time from a seeded generator so the
 * sources hold no token-shaped literals (secret scanners on the repository stay quiet, and
 * every run sees the same values).
 */

import { SeededRandom as Rng } from '@airlock/testing';
import { base62, crc32 } from '../src/checksums';

export { Rng };

export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';
export const ALNUM = UPPER + LOWER + DIGITS;
export const BASE64 = ALNUM + '+/';
export const BASE64URL = ALNUM + '-_';
export const HEX = '0123456789abcdef';

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export class Fakes {
  constructor(readonly rng = new Rng(7)) {}

  alnum(n: number): string {
    return this.rng.chars(ALNUM, n);
  }

  awsAccessKeyId(prefix: 'AKIA' | 'ASIA' = 'AKIA'): string {
    return prefix + this.rng.chars(UPPER + DIGITS, 16);
  }

  awsSecretKey(): string {
    return 'Aa1/' + this.rng.chars(BASE64, 36);
  }

  /** A classic GitHub token: 30 random characters and their CRC-32 in base 62. */
  github(prefix: 'ghp' | 'gho' | 'ghu' | 'ghs' | 'ghr' = 'ghp'): string {
    const body = this.alnum(30);
    return `${prefix}_${body}${base62(crc32(body), 6)}`;
  }

  githubPat(): string {
    return `github_pat_${this.alnum(22)}_${this.alnum(59)}`;
  }

  gitlab(prefix = 'glpat'): string {
    return `${prefix}-${this.rng.chars(ALNUM + '_-', 20)}`;
  }

  slackBot(prefix = 'xoxb'): string {
    return `${prefix}-${this.rng.chars(DIGITS, 12)}-${this.rng.chars(DIGITS, 13)}-${this.alnum(24)}`;
  }

  slackWebhookPath(): string {
    return `T${this.rng.chars(UPPER + DIGITS, 8)}/B${this.rng.chars(UPPER + DIGITS, 10)}/${this.alnum(24)}`;
  }

  stripe(prefix = 'sk_live'): string {
    return `${prefix}_${this.alnum(24)}`;
  }

  openai(): string {
    return `sk-${this.alnum(48)}`;
  }

  openaiProject(): string {
    return `sk-proj-${this.rng.chars(BASE64URL, 100)}`;
  }

  anthropic(): string {
    return `sk-ant-api03-${this.rng.chars(BASE64URL, 93)}AA`;
  }

  googleApiKey(): string {
    return `AIza${this.rng.chars(BASE64URL, 35)}`;
  }

  azureKey(): string {
    return this.rng.chars(BASE64, 86) + '==';
  }

  jwt(payload: Record<string, unknown> = { sub: 'agent', iat: 1700000000 }, alg = 'RS256'): string {
    const sig = Buffer.from(this.alnum(64)).toString('base64url');
    return `${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}.${sig}`;
  }

  pemBody(lines = 8): string {
    const out: string[] = [];
    for (let i = 0; i < lines; i++) out.push(this.rng.chars(BASE64, 64));
    return out.join('\n');
  }

  pem(label = 'RSA PRIVATE KEY', lines = 8): string {
    return `-----BEGIN ${label}-----\n${this.pemBody(lines)}\n-----END ${label}-----`;
  }

  serviceAccount(): Record<string, string> {
    return {
      type: 'service_account',
      project_id: 'demo-project',
      private_key_id: this.rng.chars(HEX, 40),
      private_key: `${this.pem('PRIVATE KEY', 12)}\n`,
      client_email: 'robot@demo-project.iam.gserviceaccount.com',
      client_id: this.rng.chars(DIGITS, 21),
    };
  }

  hex(n: number): string {
    return this.rng.chars(HEX, n);
  }
}
