import fc from 'fast-check';
import { ContractViolation, Topics, type AuditEvent } from '@airlock/contracts';
import { syntheticAuditEvent } from '@airlock/testing';
import { canonicalJson } from '../integrity/canonical-json';
import { SessionTally } from '../summaries/session-tally';
import { COPY_COLUMNS } from './copy-rows';
import { ReceivedBatch, tallyOf, type ReceivedAuditEvent } from './received-events';

const sessionId = '019c0000-0000-7000-8000-000000000001';
const message = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');
/** One message received on its own. */
const decode = (value: Buffer | null, offset: string): ReceivedAuditEvent =>
  new ReceivedBatch(1, value?.length ?? 0).receive(value, null, offset);
/** The values of its binary COPY row but the tail, written when it was received (null for NULL). */
function headColumns(r: ReceivedAuditEvent): (Buffer | null)[] {
  const row = r.rowBytes.subarray(r.rowAt, r.rowEnd);
  expect(row.readInt16BE(0)).toBe(COPY_COLUMNS.length);
  const values: (Buffer | null)[] = [];
  let at = 2;
  while (values.length < COPY_COLUMNS.indexOf('event') + 1) {
    const length = row.readInt32BE(at);
    at += 4;
    values.push(length < 0 ? null : row.subarray(at, at + length));
    at += Math.max(length, 0);
  }
  // What is left is the room for the tail: the chain, the link and the offset.
  expect(row.length - at).toBe(104);
  return values;
}
/** The event column of its row: the message as it arrived. */
const stored = (r: ReceivedAuditEvent): string => String(headColumns(r)[COPY_COLUMNS.indexOf('event')]);

describe('decoding an audit message', () => {
  it('gives the id, the message as it arrived, its canonical form and the offset', () => {
    const event = syntheticAuditEvent(sessionId, { at: Date.parse('2026-02-03T04:05:06.007Z') });
    const text = JSON.stringify(event);

    const received = decode(Buffer.from(text, 'utf8'), '41');

    expect(received.id).toBe(event.id);
    expect(stored(received)).toBe(text);
    expect(received.offset).toBe('41');
    expect(received.event()).toEqual(event);
    // The head of its row: every column before the chain's.
    expect(headColumns(received)).toHaveLength(COPY_COLUMNS.indexOf('chain'));
    const [id, type, schemaVersion, time, session, request] = headColumns(received);
    expect(id!.toString('hex')).toBe(event.id.replace(/-/g, ''));
    expect(String(type)).toBe('operation.completed');
    expect(schemaVersion!.readInt32BE(0)).toBe(event.schemaVersion);
    // Microseconds since 2000-01-01.
    expect(time!.readBigInt64BE(0)).toBe(
      BigInt(Date.parse('2026-02-03T04:05:06.007Z') - Date.parse('2000-01-01T00:00:00Z')) * 1000n,
    );
    expect(session!.toString('hex')).toBe(sessionId.replace(/-/g, ''));
    expect(request!.toString('hex')).toBe(event.requestId.replace(/-/g, ''));
    expect(received.canonical).toBe(canonicalJson(event));
    // Members sorted: the envelope's "actor" comes first, "type" last.
    expect(received.canonical.startsWith('{"actor":{"groups":["agents"],"issuer":"https://idp.test"')).toBe(true);
    expect(received.canonical.endsWith(`"type":"operation.completed"}`)).toBe(true);
  });

  it('keeps whitespace and member order in the raw text, and canonicalises them away', () => {
    const event = syntheticAuditEvent(sessionId);
    const reordered = Object.fromEntries(Object.entries(event).reverse());
    const pretty = JSON.stringify(reordered, null, 2);

    const fromPretty = decode(Buffer.from(pretty, 'utf8'), '1');
    const fromCompact = decode(message(event), '2');

    // As it arrived, newlines and all: binary COPY escapes nothing.
    expect(stored(fromPretty)).toBe(pretty);
    expect(fromPretty.canonical).toBe(fromCompact.canonical);
  });

  it('refuses an empty message', () => {
    expect(() => decode(null, '0')).toThrow(new ContractViolation(Topics.Audit, 'empty message'));
    expect(() => decode(null, '0')).toThrow(ContractViolation);
  });

  it.each(['{"id":', '', 'not json', '{"a":1}}'])('refuses %p as not valid JSON', (text) => {
    expect(() => decode(Buffer.from(text, 'utf8'), '0')).toThrow(new ContractViolation(Topics.Audit, 'not valid JSON'));
  });

  it('refuses an event whose id is not a UUIDv7', () => {
    const event = { ...syntheticAuditEvent(sessionId), id: '3f2b8c4e-9d1a-4e6b-8c2d-5a7f9e1b3c4d' };
    const thrown = catchError(() => decode(message(event), '0'));
    expect(thrown).toBeInstanceOf(ContractViolation);
    expect((thrown as ContractViolation).contract).toBe(Topics.Audit);
    expect((thrown as ContractViolation).issues).toMatch(/UUIDv7/);
  });

  it.each([
    ['0000-01-01T00:00:00Z', '22008'],
    ['2026-01-01T00:00:00+16:00', '22009'],
  ])(
    'refuses an event with a time the contract takes and PostgreSQL does not (%s), as the store would (%s), and keeps nothing of it',
    (time, code) => {
      const batch = new ReceivedBatch(3, 3000);
      const first = batch.receive(message(syntheticAuditEvent(sessionId)), null, '1');
      const thrown = catchError(() => batch.receive(message({ ...syntheticAuditEvent(sessionId), time }), null, '2'));
      expect(thrown).not.toBeInstanceOf(ContractViolation);
      expect(thrown).toMatchObject({ code, message: expect.stringMatching(/timestamp with time zone/) });
      const next = batch.receive(message(syntheticAuditEvent(sessionId)), null, '3');
      expect(batch.size).toBe(2);
      expect(next.rowAt).toBe(first.rowEnd);
      expect(next.linkAt).toBe(first.linkEnd);
      const tally = new SessionTally();
      tally.add(first.event());
      tally.add(next.event());
      expect(batch.tally).toEqual(tally);
    },
  );

  it.each(['source', 'time', 'sessionId', 'data'])('refuses an event without %s', (field) => {
    const event: Record<string, unknown> = { ...syntheticAuditEvent(sessionId) };
    delete event[field];
    expect(() => decode(message(event), '0')).toThrow(ContractViolation);
  });

  it('refuses an event whose data does not fit its type', () => {
    const event = syntheticAuditEvent(sessionId);
    expect(() => decode(message({ ...event, data: { ...event.data, status: '200' } }), '0')).toThrow(ContractViolation);
    expect(() => decode(message({ ...event, type: 'operation.unknown' }), '0')).toThrow(ContractViolation);
  });

  it.each<[string, (e: Record<string, unknown>) => Record<string, unknown>]>([
    ['a contract field', (e) => ({ ...e, source: 'ingress\u0000proxy' })],
    ['an extra field', (e) => ({ ...e, extension: { notes: ['fine', 'nul\u0000here'] } })],
    ['a member name', (e) => ({ ...e, extension: { 'k\u0000': 1 } })],
  ])('refuses U+0000 in %s, which the store cannot hold', (_where, change) => {
    const text = JSON.stringify(change({ ...syntheticAuditEvent(sessionId) }));
    expect(text).toContain('\\u0000');
    expect(() => decode(Buffer.from(text, 'utf8'), '0')).toThrow(
      new ContractViolation(Topics.Audit, 'a string holds U+0000'),
    );
  });

  it('accepts a backslash followed by "u0000" in a string, which is not U+0000', () => {
    const base = syntheticAuditEvent(sessionId);
    const event = { ...base, data: { ...base.data, note: 'path\\u0000x' } };
    const text = JSON.stringify(event);
    expect(text).toContain('"path\\\\u0000x"');

    const received = decode(Buffer.from(text, 'utf8'), '0');

    expect(stored(received)).toBe(text);
    expect(received.canonical).toContain('"note":"path\\\\u0000x"');
  });

  it('keeps fields the contract does not know, in the raw text and in the canonical form', () => {
    const base = syntheticAuditEvent(sessionId);
    const event = { ...base, zeta: { added: 'later', n: 2 }, data: { ...base.data, retries: 3 } };
    const text = JSON.stringify(event);

    const received = decode(Buffer.from(text, 'utf8'), '0');

    expect(stored(received)).toBe(text);
    expect(received.canonical).toBe(canonicalJson(event));
    expect(JSON.parse(received.canonical)).toMatchObject({ zeta: { added: 'later', n: 2 }, data: { retries: 3 } });
  });

  it('refuses an event whose source does not own its type, and keeps one that does', () => {
    const forged = { ...syntheticAuditEvent(sessionId), source: 'policy' };
    expect(() => decode(Buffer.from(JSON.stringify(forged), 'utf8'), '0')).toThrow(ContractViolation);
    expect(() => decode(Buffer.from(JSON.stringify(forged), 'utf8'), '0')).toThrow(
      /policy may not write operation.completed/,
    );
    const vault = { ...syntheticAuditEvent(sessionId), source: 'credential-vault' };
    expect(() => decode(Buffer.from(JSON.stringify(vault), 'utf8'), '0')).toThrow(/only ingress-proxy/);
    expect(decode(Buffer.from(JSON.stringify(syntheticAuditEvent(sessionId)), 'utf8'), '0').event().source).toBe(
      'ingress-proxy',
    );
  });

  it('refuses a string that holds a lone surrogate, which has no canonical form', () => {
    const text = JSON.stringify(syntheticAuditEvent(sessionId)).replace(
      '"source":"ingress-proxy"',
      '"source":"x\\ud800"',
    );
    expect(text).toContain('\\ud800');
    expect(() => decode(Buffer.from(text, 'utf8'), '0')).toThrow(ContractViolation);
    expect(() => decode(Buffer.from(text, 'utf8'), '0')).toThrow(/lone surrogate/);
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('the sessions tally of received events', () => {
  const sessions = ['019c0000-0000-7000-8000-00000000000a', '019c0000-0000-7000-8000-00000000000b'];
  const anEvent = fc
    .record({
      session: fc.constantFrom(...sessions),
      at: fc.integer({ min: 1_767_225_600_000, max: 1_767_225_700_000 }),
      subject: fc.option(fc.constantFrom('agent-a', 'agent-b')),
      masked: fc.nat(3),
    })
    .map(({ session, at, subject, masked }): AuditEvent => {
      const e = syntheticAuditEvent(session, { at, subject: subject ?? undefined });
      return {
        ...e,
        actor: subject === null ? null : e.actor,
        data: { ...e.data, masked: { 'aws-access-key': masked } },
      } as AuditEvent;
    });

  it('is the tally of their events, for whole batches and for any selection of them in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(anEvent, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 }),
        fc.option(fc.infiniteStream(fc.boolean())),
        (fetched, keep) => {
          let offset = 0;
          const received = fetched.flatMap((events) => {
            const batch = new ReceivedBatch(events.length);
            return events.map((e) => batch.receive(Buffer.from(JSON.stringify(e)), null, String(offset++)));
          });
          // Every event (what a window stores), or some of them (what a redelivery leaves).
          const selected = keep === null ? received : received.filter(() => keep.next().value);
          const expected = new SessionTally();
          for (const r of selected) expected.add(JSON.parse(r.value.toString()) as AuditEvent);
          expect(tallyOf(selected).deltas()).toEqual(expected.deltas());
        },
      ),
    );
  });
});
