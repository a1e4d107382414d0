import { createHash } from 'node:crypto';
import {
  AuditDeadLetterSchema,
  DEAD_LETTER_VALUE_MAX,
  Topics,
  parseContract,
  storableText,
  truncateText,
  type AuditDeadLetter,
} from '@airlock/contracts';
import type { DeadLetterRow } from './audit.repository';

/** A message of `airlock.audit` the recorder does not store, as it goes to the dead-letter topic and the store. */
export interface DeadLetter {
  /** Published on airlock.audit.deadletter. */
  record: AuditDeadLetter;
  /** Recorded with the batch, for the count GET /audit/verify reports. */
  row: DeadLetterRow;
}

const REASON_MAX = 2000;
const FIELD_MAX = 200;

/** Text from a message that failed its checks: storable and bounded wherever it goes. */
function safe(s: string, max: number): string {
  return truncateText(storableText(s), max);
}

/** The id and type a message claims, when it is a JSON object that has them. */
function claimed(value: Buffer | null): { eventId?: string; eventType?: string } {
  if (value === null) return {};
  try {
    const parsed = JSON.parse(value.toString('utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    const { id, type } = parsed as { id?: unknown; type?: unknown };
    return {
      ...(typeof id === 'string' ? { eventId: safe(id, FIELD_MAX) } : {}),
      ...(typeof type === 'string' ? { eventType: safe(type, FIELD_MAX) } : {}),
    };
  } catch {
    return {};
  }
}

export function deadLetterOf(
  stage: AuditDeadLetter['stage'],
  reason: string,
  message: { value: Buffer | null; key: Buffer | null; offset: string },
  partition: number,
  now: Date = new Date(),
): DeadLetter {
  const value = message.value ?? Buffer.alloc(0);
  const sha256 = createHash('sha256').update(value).digest();
  const kept = value.subarray(0, DEAD_LETTER_VALUE_MAX);
  const ids = claimed(message.value);
  const text = safe(reason, REASON_MAX);
  const record = parseContract(Topics.AuditDeadLetter, AuditDeadLetterSchema, {
    stage,
    reason: text,
    topic: Topics.Audit,
    partition,
    offset: message.offset,
    key: message.key === null ? null : safe(message.key.toString('utf8'), FIELD_MAX),
    ...ids,
    size: value.length,
    sha256: sha256.toString('hex'),
    value: kept.toString('base64'),
    truncated: kept.length < value.length,
    deadLetteredAt: now.toISOString(),
  });
  return {
    record,
    row: { offset: message.offset, stage, reason: text, ...ids, size: value.length, sha256 },
  };
}

/**
 * Errors by which PostgreSQL refuses a row's data (class 22, data exception: a value out of
 * range, an invalid character, ...; 54000, a value too large): storing the same row again can
 * never succeed, unlike a lost connection or a full disk.
 */
export function refusedByStore(err: unknown): boolean {
  const code =
    (err as { driverError?: { code?: unknown } }).driverError?.code ?? (err as { code?: unknown }).code ?? undefined;
  return typeof code === 'string' && (code.startsWith('22') || code === '54000');
}
