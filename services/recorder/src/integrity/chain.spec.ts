import { createHash } from 'node:crypto';
import fc from 'fast-check';
import {
  ChainWalker,
  GENESIS_HASH,
  eventHash,
  linkHash,
  linkHashHexAt,
  type ChainAnchor,
  type StoredLink,
} from './chain';

/** SHA-256 over the raw bytes given, computed here without the code under test. */
const sha256 = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

const genesis: ChainAnchor = { kind: 'genesis', seq: 0n, hash: GENESIS_HASH };

const eventOf = (seq: number) => ({ id: `evt-${seq}`, type: 'operation.completed', data: { n: seq, note: 'ok' } });

/** A sound chain of `count` links after `anchor`. */
function buildChain(count: number, anchor: ChainAnchor = genesis): StoredLink[] {
  const links: StoredLink[] = [];
  let previous = anchor.hash;
  for (let i = 1; i <= count; i++) {
    const seq = anchor.seq + BigInt(i);
    const event = eventOf(Number(seq));
    const hash = eventHash(previous, event);
    links.push({ seq, id: event.id, prevHash: previous, hash, event });
    previous = hash;
  }
  return links;
}

describe('link hashes', () => {
  it('starts from 32 zero bytes', () => {
    expect(GENESIS_HASH).toEqual(Buffer.alloc(32, 0));
    expect(GENESIS_HASH.length).toBe(32);
  });

  it('hashes the previous hash as raw bytes followed by the canonical JSON in UTF-8', () => {
    const previous = Buffer.from('8f'.repeat(32), 'hex');
    const canonical = '{"a":"\u20ac","b":1}';
    const expected = sha256(previous, Buffer.from(canonical, 'utf8'));
    expect(linkHash(previous, canonical)).toEqual(expected);
    // The hex spelling of the previous hash is not what is hashed.
    expect(linkHash(previous, canonical)).not.toEqual(
      sha256(Buffer.from(previous.toString('hex')), Buffer.from(canonical)),
    );
  });

  /** The link of `text` after `previousHex`, with the event written at `from + 32` in a buffer of its own. */
  const linkAt = (previousHex: string, text: string, from = 0): string => {
    const input = Buffer.alloc(from + 32 + Buffer.byteLength(text) + 7, 0xee);
    const end = from + 32 + input.write(text, from + 32, 'utf8');
    return linkHashHexAt(previousHex, input, from, end);
  };

  it('gives the same link in hex from the previous hash in hex, for any previous hash, event text and place', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string({ unit: 'grapheme', maxLength: 300 }),
        fc.nat(100),
        (bytes, text, from) => {
          const previous = Buffer.from(bytes);
          expect(linkAt(previous.toString('hex'), text, from)).toBe(linkHash(previous, text).toString('hex'));
        },
      ),
    );
    const long = 'é'.repeat(40_000);
    expect(linkAt('ab'.repeat(32), long)).toBe(sha256(Buffer.alloc(32, 0xab), Buffer.from(long)).toString('hex'));
  });

  it('refuses a previous hash in hex that is not 32 bytes of hex digits', () => {
    for (const previous of ['', 'ab'.repeat(31), 'ab'.repeat(33), `${'ab'.repeat(31)}zz`, `zz${'ab'.repeat(31)}`]) {
      expect(() => linkAt(previous, '{}')).toThrow('a previous hash is 64 hex digits');
    }
  });

  it('hashes an event in its canonical form, whatever the order of its members', () => {
    const expected = sha256(GENESIS_HASH, Buffer.from('{"id":"x","n":[1,2],"s":"\u00e9"}', 'utf8'));
    expect(eventHash(GENESIS_HASH, { s: '\u00e9', n: [1, 2], id: 'x' })).toEqual(expected);
    expect(eventHash(GENESIS_HASH, { id: 'x', n: [1, 2], s: '\u00e9' })).toEqual(expected);
  });

  it('depends on the previous hash', () => {
    const other = Buffer.alloc(32, 1);
    expect(eventHash(other, { a: 1 })).not.toEqual(eventHash(GENESIS_HASH, { a: 1 }));
    expect(eventHash(other, { a: 1 })).toEqual(sha256(other, Buffer.from('{"a":1}')));
  });
});

describe('ChainWalker', () => {
  it('verifies a sound chain from the genesis', () => {
    const links = buildChain(6);
    const walker = new ChainWalker(genesis);
    expect(walker.next(links)).toBe(true);
    expect(walker.result).toEqual({
      verified: 6,
      lastSeq: '6',
      lastHash: links[5].hash.toString('hex'),
      brokenAt: null,
    });
    expect(walker.head).toEqual({ seq: 6n, hash: links[5].hash });
  });

  it('reports the anchor itself before any link', () => {
    const walker = new ChainWalker(genesis);
    expect(walker.next([])).toBe(true);
    expect(walker.result).toEqual({ verified: 0, lastSeq: null, lastHash: '00'.repeat(32), brokenAt: null });
    expect(walker.head).toEqual({ seq: 0n, hash: GENESIS_HASH });
  });

  it('starts from a retention anchor: the link after it must follow its hash', () => {
    const full = buildChain(8);
    const anchor: ChainAnchor = { kind: 'retention', seq: 5n, hash: full[4].hash };
    const walker = new ChainWalker(anchor);
    expect(walker.next(full.slice(5))).toBe(true);
    expect(walker.result).toMatchObject({ verified: 3, lastSeq: '8', brokenAt: null });

    const wrongAnchor = new ChainWalker({ kind: 'retention', seq: 5n, hash: full[3].hash });
    expect(wrongAnchor.next(full.slice(5))).toBe(false);
    expect(wrongAnchor.result.brokenAt).toEqual({
      seq: '6',
      eventId: 'evt-6',
      reason: 'previous hash does not match the hash of the link before',
    });
  });

  it('reports exactly the link whose event was edited', () => {
    const links = buildChain(5);
    links[2] = { ...links[2], event: { ...eventOf(3), data: { n: 3, note: 'edited' } } };
    const walker = new ChainWalker(genesis);
    expect(walker.next(links)).toBe(false);
    expect(walker.result).toEqual({
      verified: 2,
      lastSeq: '2',
      lastHash: links[1].hash.toString('hex'),
      brokenAt: { seq: '3', eventId: 'evt-3', reason: 'hash does not match the stored event' },
    });
  });

  it('reports the link after one whose event and hash were both rewritten', () => {
    const links = buildChain(5);
    const edited = { ...eventOf(3), data: { n: 3, note: 'rewritten' } };
    links[2] = { ...links[2], event: edited, hash: eventHash(links[1].hash, edited) };
    const walker = new ChainWalker(genesis);
    expect(walker.next(links)).toBe(false);
    expect(walker.result.verified).toBe(3);
    expect(walker.result.brokenAt).toEqual({
      seq: '4',
      eventId: 'evt-4',
      reason: 'previous hash does not match the hash of the link before',
    });
  });

  it('reports a link whose stored hash alone was changed', () => {
    const links = buildChain(3);
    links[1] = { ...links[1], hash: Buffer.alloc(32, 0xab) };
    const walker = new ChainWalker(genesis);
    walker.next(links);
    expect(walker.result.brokenAt).toEqual({
      seq: '2',
      eventId: 'evt-2',
      reason: 'hash does not match the stored event',
    });
  });

  it('reports a gap at the first link after it, naming the missing range', () => {
    const links = buildChain(7);
    const walker = new ChainWalker(genesis);
    expect(walker.next([...links.slice(0, 2), ...links.slice(5)])).toBe(false);
    expect(walker.result).toMatchObject({
      verified: 2,
      lastSeq: '2',
      brokenAt: { seq: '6', eventId: 'evt-6', reason: 'sequence 3 to 5 missing' },
    });
  });

  it('reports a missing first link', () => {
    const walker = new ChainWalker(genesis);
    walker.next(buildChain(3).slice(1));
    expect(walker.result.brokenAt).toEqual({ seq: '2', eventId: 'evt-2', reason: 'sequence 1 to 1 missing' });
  });

  it('reports a repeated sequence number as out of order', () => {
    const links = buildChain(4);
    const walker = new ChainWalker(genesis);
    expect(walker.next([links[0], links[1], links[1], links[2]])).toBe(false);
    expect(walker.result).toMatchObject({
      verified: 2,
      brokenAt: { seq: '2', eventId: 'evt-2', reason: 'sequence 2 out of order (expected 3)' },
    });
  });

  it('reports a link at or before the anchor as out of order', () => {
    const full = buildChain(4);
    const walker = new ChainWalker({ kind: 'retention', seq: 2n, hash: full[1].hash });
    expect(walker.next([full[0]])).toBe(false);
    expect(walker.result.brokenAt).toEqual({
      seq: '1',
      eventId: 'evt-1',
      reason: 'sequence 1 out of order (expected 3)',
    });
  });

  it('reports an event that cannot be put in canonical form', () => {
    const links = buildChain(2);
    const bad: StoredLink = {
      seq: 3n,
      id: 'evt-3',
      prevHash: links[1].hash,
      hash: Buffer.alloc(32),
      event: { text: 'broken \ud800 surrogate' },
    };
    const walker = new ChainWalker(genesis);
    expect(walker.next([...links, bad])).toBe(false);
    expect(walker.result.verified).toBe(2);
    expect(walker.result.brokenAt?.seq).toBe('3');
    expect(walker.result.brokenAt?.reason).toBe(
      'event cannot be put in canonical form: a string holds a lone surrogate',
    );
  });

  it('stops at the first break and ignores later pages, sound or not', () => {
    const links = buildChain(9);
    const edited = [...links];
    edited[3] = { ...edited[3], event: { tampered: true } };
    edited[6] = { ...edited[6], event: { tampered: 'again' } };
    const walker = new ChainWalker(genesis);
    expect(walker.next(edited.slice(0, 5))).toBe(false);
    const atBreak = walker.result;
    expect(walker.next(edited.slice(5))).toBe(false);
    expect(walker.next(links.slice(5))).toBe(false);
    expect(walker.result).toEqual(atBreak);
    expect(atBreak).toMatchObject({ verified: 3, lastSeq: '3', brokenAt: { seq: '4' } });
  });

  it('judges pages fed in several calls like one page', () => {
    const links = buildChain(10);
    const whole = new ChainWalker(genesis);
    whole.next(links);
    const paged = new ChainWalker(genesis);
    for (const page of [links.slice(0, 3), [], links.slice(3, 4), links.slice(4, 9), links.slice(9)]) {
      expect(paged.next(page)).toBe(true);
    }
    expect(paged.result).toEqual(whole.result);
    expect(paged.result.verified).toBe(10);

    // A gap across a page boundary is still found.
    const gapped = new ChainWalker(genesis);
    expect(gapped.next(links.slice(0, 4))).toBe(true);
    expect(gapped.next(links.slice(5))).toBe(false);
    expect(gapped.result.brokenAt).toEqual({ seq: '6', eventId: 'evt-6', reason: 'sequence 5 to 5 missing' });
  });

  it('takes any iterable as a page', () => {
    const links = buildChain(3);
    function* generate(): Generator<StoredLink> {
      yield* links;
    }
    const walker = new ChainWalker(genesis);
    expect(walker.next(generate())).toBe(true);
    expect(walker.result.verified).toBe(3);
  });
});
