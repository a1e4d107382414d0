import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/**
 * Each `airlock.audit` partition feeds one hash chain in the store. An event's link is
 * `hash = SHA-256(previous hash ‖ canonical JSON of the event)`, the previous hash taken as its
 * 32 raw bytes, and 32 zero bytes before the first event of a chain.
 */
export const GENESIS_HASH = Buffer.alloc(32);

// One scratch buffer for `previous ‖ event`: a one-shot hash of it is about twice as fast as an
// incremental hash object per event, which matters at tens of thousands of events a second.
let scratch = Buffer.allocUnsafe(64 * 1024);

export function linkHash(previous: Buffer, canonicalEvent: string): Buffer {
  // Room for the longest encoding (3 bytes a UTF-16 unit): no need to measure the string first,
  // which for a string built from pieces costs as much as writing it.
  const room = 32 + 3 * canonicalEvent.length;
  if (room > scratch.length) scratch = Buffer.allocUnsafe(Math.max(room, scratch.length * 2));
  previous.copy(scratch, 0, 0, 32);
  const written = scratch.write(canonicalEvent, 32, 'utf8');
  return hash('sha256', scratch.subarray(0, 32 + written), 'buffer') as unknown as Buffer;
}

/**
 * `linkHash` with both hashes as 64 lowercase hex digits (the form the store's COPY text takes),
 * of an event whose canonical form is already written at `input[from + 32, end)`: the previous
 * hash goes into the 32 bytes kept before it, and the link is hashed where it lies. A link then
 * makes a short string and no buffer of its own, and its event is not written out again.
 */
export function linkHashHexAt(previousHex: string, input: Buffer, from: number, end: number): string {
  if (previousHex.length !== 64 || input.write(previousHex, from, 32, 'hex') !== 32) {
    throw new Error('a previous hash is 64 hex digits');
  }
  return hash('sha256', input.subarray(from, end), 'hex');
}

/** The link of an event given as the JSON value that was received. */
export function eventHash(previous: Buffer, event: unknown): Buffer {
  return linkHash(previous, canonicalJson(event));
}

/** The head of a chain: its last sequence number and hash (seq 0 and the genesis hash when empty). */
export interface ChainHead {
  seq: bigint;
  hash: Buffer;
}

/** A stored link, as read back for verification. */
export interface StoredLink {
  seq: bigint;
  id: string;
  prevHash: Buffer;
  hash: Buffer;
  /** The event as stored. */
  event: unknown;
}

/** Where a walk starts: the genesis, or the last link a signed retention checkpoint vouches for. */
export interface ChainAnchor {
  kind: 'genesis' | 'retention';
  seq: bigint;
  hash: Buffer;
}

export interface BrokenLink {
  seq: string;
  eventId: string;
  reason: string;
}

/**
 * Walks a chain in sequence order and stops at the first broken link. Feed it pages with
 * `next`; `result` says where it stands. Pure: no I/O, so the same code checks a chain read from
 * the database, an export, or a test's fixture.
 */
export class ChainWalker {
  private expectedSeq: bigint;
  private previous: Buffer;
  private broken: BrokenLink | undefined;
  private count = 0;
  private lastSeq: bigint | undefined;

  constructor(readonly anchor: ChainAnchor) {
    this.expectedSeq = anchor.seq + 1n;
    this.previous = anchor.hash;
  }

  /** Checks the next links; returns false once a link is broken (later links are not judged). */
  next(links: Iterable<StoredLink>): boolean {
    if (this.broken) return false;
    for (const link of links) {
      const reason = this.judge(link);
      if (reason) {
        this.broken = { seq: link.seq.toString(), eventId: link.id, reason };
        return false;
      }
      this.count++;
      this.lastSeq = link.seq;
      this.previous = link.hash;
      this.expectedSeq = link.seq + 1n;
    }
    return true;
  }

  private judge(link: StoredLink): string | undefined {
    if (link.seq !== this.expectedSeq) {
      return link.seq > this.expectedSeq
        ? `sequence ${this.expectedSeq} to ${link.seq - 1n} missing`
        : `sequence ${link.seq} out of order (expected ${this.expectedSeq})`;
    }
    if (!link.prevHash.equals(this.previous)) return 'previous hash does not match the hash of the link before';
    let recomputed: Buffer;
    try {
      recomputed = eventHash(this.previous, link.event);
    } catch (err) {
      return `event cannot be put in canonical form: ${(err as Error).message}`;
    }
    if (!recomputed.equals(link.hash)) return 'hash does not match the stored event';
    return undefined;
  }

  get result(): { verified: number; lastSeq: string | null; lastHash: string; brokenAt: BrokenLink | null } {
    return {
      verified: this.count,
      lastSeq: this.lastSeq === undefined ? null : this.lastSeq.toString(),
      lastHash: this.previous.toString('hex'),
      brokenAt: this.broken ?? null,
    };
  }

  /** The head reached so far (meaningful while nothing is broken). */
  get head(): ChainHead {
    return { seq: this.expectedSeq - 1n, hash: this.previous };
  }
}
