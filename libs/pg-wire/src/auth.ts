import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { PgProtocolError } from './errors';

/** PostgreSQL's own minimum is 1, its default 4096; fewer than this is a downgraded or hostile server. */
export const MIN_SCRAM_ITERATIONS = 1000;
/** PBKDF2 runs on the event loop; a server asking for more than this could stall every other session. */
export const DEFAULT_MAX_SCRAM_ITERATIONS = 1_000_000;

const GS2_HEADER = 'n,,'; // no channel binding, no authzid
const KEY_BYTES = 32;

export interface ScramOptions {
  /** PostgreSQL takes the role from the start-up packet and ignores this; it only matters to other SCRAM peers. */
  username?: string;
  maxIterations?: number;
}

type ScramState =
  | { step: 'initial' }
  | { step: 'first-sent'; clientFirstBare: string }
  | { step: 'final-sent'; serverSignature: Buffer }
  | { step: 'done' };

function authFailed(reason: string): never {
  throw new PgProtocolError(`SCRAM authentication failed: ${reason}`, '28P01');
}

function violation(reason: string): never {
  throw new PgProtocolError(`SCRAM exchange: ${reason}`);
}

/** RFC 5802 `printable` without ','. */
function isNonce(s: string): boolean {
  return /^[\x21-\x2b\x2d-\x7e]+$/.test(s);
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function saslName(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/**
 * The client side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) as the proxy uses it to log in upstream.
 *
 * SASLprep is applied only in the trivial sense: the password's UTF-8 bytes are used as they are.
 * That is exact for printable ASCII, which SASLprep leaves unchanged, and it is what PostgreSQL
 * itself falls back to when a password is not valid SASLprep input. A non-ASCII password that
 * SASLprep would rewrite (compatibility characters, non-ASCII spaces) will not authenticate.
 *
 * The caller must still treat an AuthenticationOk that arrives before `verifyServerFinal` succeeded
 * as a failure: otherwise a server that skips the final step is never asked to prove itself.
 */
export class ScramSha256Client {
  readonly mechanism = 'SCRAM-SHA-256';
  private readonly password: Buffer;
  private readonly nonce: string;
  private readonly username: string;
  private readonly maxIterations: number;
  private state: ScramState = { step: 'initial' };

  /** `nonce` is the printable nonce text itself, for tests; by default 18 random bytes in base64. */
  constructor(password: string, nonce?: Buffer, options: ScramOptions = {}) {
    this.password = Buffer.from(password, 'utf8');
    this.nonce = (nonce ?? Buffer.from(randomBytes(18).toString('base64'))).toString('latin1');
    if (!isNonce(this.nonce)) throw new RangeError('SCRAM nonce must be printable ASCII without ","');
    this.username = options.username ?? '';
    this.maxIterations = options.maxIterations ?? DEFAULT_MAX_SCRAM_ITERATIONS;
  }

  clientFirstMessage(): Buffer {
    if (this.state.step !== 'initial') violation('client-first message already sent');
    const clientFirstBare = `n=${saslName(this.username)},r=${this.nonce}`;
    this.state = { step: 'first-sent', clientFirstBare };
    return Buffer.from(GS2_HEADER + clientFirstBare, 'utf8');
  }

  /** Takes the server-first message (SASLContinue data) and returns the client-final message. */
  handleServerFirst(data: Buffer): Buffer {
    if (this.state.step !== 'first-sent') violation('unexpected server-first message');
    const { clientFirstBare } = this.state;
    const serverFirst = data.toString('utf8');
    const attrs = serverFirst.split(',');
    // A mandatory extension (m=) would change the exchange in ways we do not implement.
    const nonce = attribute(attrs[0], 'r');
    const salt = attribute(attrs[1], 's');
    const iterationText = attribute(attrs[2], 'i');

    if (!isNonce(nonce) || !nonce.startsWith(this.nonce) || nonce.length === this.nonce.length) {
      authFailed('server nonce does not extend the client nonce');
    }
    if (salt === '' || !BASE64.test(salt)) violation('salt is not base64');
    if (!/^[1-9][0-9]{0,9}$/.test(iterationText)) violation('invalid iteration count');
    const iterations = Number(iterationText);
    if (iterations < MIN_SCRAM_ITERATIONS) authFailed(`iteration count ${iterations} is too low`);
    if (iterations > this.maxIterations) authFailed(`iteration count ${iterations} is too high`);

    const saltedPassword = pbkdf2Sync(this.password, Buffer.from(salt, 'base64'), iterations, KEY_BYTES, 'sha256');
    const clientKey = hmac(saltedPassword, 'Client Key');
    const storedKey = createHash('sha256').update(clientKey).digest();
    const clientFinalWithoutProof = `c=${Buffer.from(GS2_HEADER).toString('base64')},r=${nonce}`;
    const authMessage = `${clientFirstBare},${serverFirst},${clientFinalWithoutProof}`;
    const clientSignature = hmac(storedKey, authMessage);
    const proof = Buffer.alloc(KEY_BYTES);
    for (let i = 0; i < KEY_BYTES; i++) proof[i] = clientKey[i] ^ clientSignature[i];
    const serverSignature = hmac(hmac(saltedPassword, 'Server Key'), authMessage);

    this.state = { step: 'final-sent', serverSignature };
    return Buffer.from(`${clientFinalWithoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Takes the server-final message (SASLFinal data); throws unless the server proved it knows the password. */
  verifyServerFinal(data: Buffer): void {
    if (this.state.step !== 'final-sent') violation('unexpected server-final message');
    const { serverSignature } = this.state;
    this.state = { step: 'done' };
    const first = data.toString('utf8').split(',')[0];
    if (first.startsWith('e=')) authFailed(`server reported ${first.slice(2)}`);
    const verifier = attribute(first, 'v');
    if (!BASE64.test(verifier)) violation('server signature is not base64');
    const received = Buffer.from(verifier, 'base64');
    if (received.length !== serverSignature.length || !timingSafeEqual(received, serverSignature)) {
      authFailed('server signature does not match');
    }
  }
}

function attribute(part: string | undefined, name: string): string {
  if (part === undefined || !part.startsWith(`${name}=`)) violation(`expected attribute "${name}"`);
  return part.slice(name.length + 1);
}

/** The response to AuthenticationMD5Password: "md5" + md5hex(md5hex(password + user) + salt). */
export function md5PasswordResponse(user: string, password: string, salt: Buffer): string {
  const inner = createHash('md5').update(password, 'utf8').update(user, 'utf8').digest('hex');
  return 'md5' + createHash('md5').update(inner, 'latin1').update(salt).digest('hex');
}
