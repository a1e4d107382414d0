import fc from 'fast-check';
import { AUDIT_SCHEMA_VERSION, AuditEventSchema, AuditEventTypes, type AuditEventDraft } from './audit';
import { isAuditEvent } from './audit-check';
import { sampleAuditDrafts } from './audit-samples.test-helper';
import { uuidv7 } from './ids';

/** An event as it arrives on the topic: the envelope completed, as JSON. */
function published(draft: AuditEventDraft): Record<string, unknown> {
  const now = Date.now();
  const event = { ...draft, id: uuidv7(now), schemaVersion: AUDIT_SCHEMA_VERSION, time: new Date(now).toISOString() };
  return JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
}

type Path = (string | number)[];

/** Every place in a JSON value: the paths of its members and items, however deep. */
function pathsOf(value: unknown, at: Path = []): Path[] {
  if (value === null || typeof value !== 'object') return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...at, k], ...pathsOf((value as Record<string | number, unknown>)[k], [...at, k])]);
}

function withAt(value: unknown, path: Path, replace: (old: unknown) => unknown | typeof REMOVE): unknown {
  if (path.length === 0) return replace(value);
  const [head, ...tail] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  const next = withAt(copy[head], tail, replace);
  if (next === REMOVE) delete copy[head];
  else copy[head] = next;
  return copy;
}
const REMOVE = Symbol('remove');

const zodSays = (v: unknown): boolean => AuditEventSchema.safeParse(v).success;

const samples = sampleAuditDrafts().map(published);

/** Values near the edges of what the contract checks: lengths in UTF-16 units, integers, formats. */
const edgeValue = fc.oneof(
  fc.jsonValue(),
  fc.constantFrom(-1, 0, -0, 0.5, 1, 2 ** 53, 2 ** 53 - 1, -(2 ** 53), 1e308, 200, 65535),
  fc.constantFrom('', 'x', '😀'.repeat(33), 'a'.repeat(64), 'a'.repeat(65), '😀'.repeat(32), 'ÄÖ'),
  fc.constantFrom('2026-02-03T04:05:06Z', '2026-02-03T04:05Z', '2026-02-30T04:05:06Z', '2026-02-03T04:05:06+01:00'),
  fc.constantFrom('2026-02-03 04:05:06Z', '2024-02-29T00:00:00.123456789Z', '2026-02-03T04:05:06.1z'),
  fc.constantFrom('019c0000-0000-7000-8000-000000000002', '019c0000-0000-4000-8000-000000000002', 'ABC'),
  fc.constantFrom('DEMO', 'demo_1', '-demo', 'http', 'postgres', 'allow', 'review', '42P01', '42p01'),
  fc.constantFrom(...Object.values(AuditEventTypes)),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

describe('the compiled audit check', () => {
  it('accepts every sample event, as zod does', () => {
    expect(new Set(samples.map((s) => s.type))).toEqual(new Set(Object.values(AuditEventTypes)));
    for (const s of samples)
      expect({ type: s.type, compiled: isAuditEvent(s), zod: zodSays(s) }).toEqual({
        type: s.type,
        compiled: true,
        zod: true,
      });
  });

  it('refuses what is not an event at all', () => {
    for (const v of [null, 1, 'x', [], [samples[0]], {}, { type: 'operation.exploded' }, { type: '__proto__' }]) {
      expect(isAuditEvent(v)).toBe(false);
      expect(zodSays(v)).toBe(false);
    }
  });

  it('agrees with zod on events changed anywhere: a member removed, replaced or added', () => {
    const mutated = fc
      .constantFrom(...samples)
      .chain((event) =>
        fc.tuple(
          fc.constant(event),
          fc.constantFrom(...pathsOf(event)),
          fc.oneof(fc.constant<typeof REMOVE>(REMOVE), edgeValue),
          fc.option(fc.tuple(fc.string({ maxLength: 8 }), edgeValue), { nil: undefined }),
        ),
      )
      .map(([event, path, value, added]) => {
        let v = withAt(event, path, () => value);
        if (added)
          v = withAt(v, path.slice(0, -1), (o) => (o && typeof o === 'object' ? { ...o, [added[0]]: added[1] } : o));
        return v;
      });
    fc.assert(
      fc.property(mutated, (v) => {
        expect({ v, compiled: isAuditEvent(v) }).toEqual({ v, compiled: zodSays(v) });
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with zod on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => isAuditEvent(v) === zodSays(v)),
      { numRuns: 2000 },
    );
  });

  it('can fail: a refused mutation is refused by both', () => {
    const completed = samples.find((s) => s.type === 'operation.completed')!;
    const bad = withAt(completed, ['data', 'status'], () => 200.5);
    expect([isAuditEvent(bad), zodSays(bad)]).toEqual([false, false]);
    const long = withAt(completed, ['connection'], () => 'a'.repeat(64));
    expect([isAuditEvent(long), zodSays(long)]).toEqual([false, false]);
  });
});
