import { createHash } from 'node:crypto';
import { AuditDeadLetterSchema, DEAD_LETTER_VALUE_MAX, isStorableText } from '@airlock/contracts';
import { deadLetterOf, refusedByStore } from './dead-letter';

describe('dead letters', () => {
  it('keeps the reason, the bytes and what the message claims to be, in a record its contract accepts', () => {
    const value = Buffer.from(JSON.stringify({ id: 'some-id', type: 'operation.completed', data: { status: 'x' } }));
    const d = deadLetterOf(
      'contract',
      'data.status: expected number',
      { value, key: Buffer.from('sess'), offset: '41' },
      3,
      new Date(0),
    );
    expect(AuditDeadLetterSchema.parse(d.record)).toEqual(d.record);
    expect(d.record).toMatchObject({
      stage: 'contract',
      reason: 'data.status: expected number',
      topic: 'airlock.audit',
      partition: 3,
      offset: '41',
      key: 'sess',
      eventId: 'some-id',
      eventType: 'operation.completed',
      size: value.length,
      truncated: false,
      deadLetteredAt: '1970-01-01T00:00:00.000Z',
    });
    expect(Buffer.from(d.record.value, 'base64')).toEqual(value);
    expect(d.record.sha256).toBe(createHash('sha256').update(value).digest('hex'));
    expect(d.row).toMatchObject({ offset: '41', stage: 'contract', eventId: 'some-id', size: value.length });
  });

  it('makes hostile text storable and bounded, and cuts a huge value (the hash covers all of it)', () => {
    const huge = Buffer.concat([Buffer.from('{"id":"a\\u0000\\ud800","type":"x'), Buffer.alloc(DEAD_LETTER_VALUE_MAX)]);
    const d = deadLetterOf('store', `bad\0${'r'.repeat(5000)}\ud83d`, { value: huge, key: null, offset: '7' }, 0);
    expect(isStorableText(d.record.reason)).toBe(true);
    expect(d.record.reason.length).toBeLessThanOrEqual(2000);
    expect(d.record.truncated).toBe(true);
    expect(Buffer.from(d.record.value, 'base64').length).toBe(DEAD_LETTER_VALUE_MAX);
    expect(d.record.size).toBe(huge.length);
    expect(d.record.key).toBeNull();
    const odd = deadLetterOf(
      'contract',
      'x',
      { value: Buffer.from('{"id":"a\\u0000\\ud800"}'), key: null, offset: '8' },
      0,
    );
    expect(odd.record.eventId).toBe('a\uFFFD\uFFFD');
    expect(deadLetterOf('contract', 'empty', { value: null, key: null, offset: '9' }, 0).record.size).toBe(0);
  });

  it('tells a refused row (data exception) from a store that is unavailable', () => {
    expect(refusedByStore({ code: '22008' })).toBe(true);
    expect(refusedByStore({ driverError: { code: '22P05' } })).toBe(true);
    expect(refusedByStore({ code: '54000' })).toBe(true);
    expect(refusedByStore({ code: '57P01' })).toBe(false);
    expect(refusedByStore(new Error('connection terminated'))).toBe(false);
  });
});
