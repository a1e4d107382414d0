import { ContractViolation, Topics } from '@airlock/contracts';
import { syntheticAuditEvent } from '@airlock/testing';
import { canonicalJson } from '../integrity/canonical-json';
import { decode } from './audit.consumer';

const sessionId = '019c0000-0000-7000-8000-000000000001';
const message = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), 'utf8');

describe('decoding an audit message', () => {
  it('gives the id, the message as it arrived, its canonical form and the offset', () => {
    const event = syntheticAuditEvent(sessionId, { at: Date.parse('2026-02-03T04:05:06.007Z') });
    const text = JSON.stringify(event);

    const received = decode(Buffer.from(text, 'utf8'), '41');

    expect(received.event.id).toBe(event.id);
    // Kept as the bytes that arrived: COPY takes them as they are.
    expect(received.raw).toEqual(Buffer.from(text, 'utf8'));
    expect(received.offset).toBe('41');
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

    // Its newlines need escaping in COPY text: kept as text.
    expect(fromPretty.raw).toBe(pretty);
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

    // Its backslash needs escaping in COPY text: kept as text.
    expect(received.raw).toBe(text);
    expect(received.canonical).toContain('"note":"path\\\\u0000x"');
  });

  it('keeps fields the contract does not know, in the raw text and in the canonical form', () => {
    const base = syntheticAuditEvent(sessionId);
    const event = { ...base, zeta: { added: 'later', n: 2 }, data: { ...base.data, retries: 3 } };
    const text = JSON.stringify(event);

    const received = decode(Buffer.from(text, 'utf8'), '0');

    // Kept as the bytes that arrived: COPY takes them as they are.
    expect(received.raw).toEqual(Buffer.from(text, 'utf8'));
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
    expect(decode(Buffer.from(JSON.stringify(syntheticAuditEvent(sessionId)), 'utf8'), '0').event.source).toBe(
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
