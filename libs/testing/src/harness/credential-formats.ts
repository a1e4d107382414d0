import { crc32 } from 'node:zlib';

/** A token in GitHub's classic format (30 characters, then their CRC-32 in base 62), as the detector checks it. */
export function githubFormatToken(body: string): string {
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let n = crc32(body);
  let sum = '';
  for (let i = 0; i < 6; i++, n = Math.floor(n / 62)) sum = digits[n % 62] + sum;
  return `ghp_${body}${sum}`;
}
