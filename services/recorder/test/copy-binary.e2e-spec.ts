import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Logger } from '@nestjs/common';
import fc from 'fast-check';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DataSource } from 'typeorm';
import type { AuditEvent } from '@airlock/contracts';
import { TestDatabase, uuidv7At } from '@airlock/testing';
import { COPY_COLUMNS, CopyRows, EventWriter, copyData, type WrittenEvent } from '../src/audit/copy-rows';
import { ownerOptions, roleOf } from '../src/store/store.options';
import { prepareStore } from '../src/store/store-setup';

/**
 * The recorder writes the store with binary COPY, each row written when its event is received
 * (its tail when it is linked). PostgreSQL's text form is the reference: for generated rows (any
 * text, any groups, any JSON, times in every form the audit contract takes, 64-bit numbers), the
 * binary rows must store exactly the values the text rows store, and each row be refused exactly
 * when its text row is, with the same SQLSTATE: by the writer when it is received, or by
 * PostgreSQL.
 */

/** A row as the store gets it: an event, its message as it arrived, its link and its offset. */
interface ChainedRow {
  event: AuditEvent;
  raw: string;
  chain: number;
  seq: string;
  prevHash: Buffer;
  hash: Buffer;
  offset: string;
}

// The text form: tab-separated columns, `\N` for NULL, backslash, tab, newline and return escaped.
const escaped = (value: string | null): string =>
  value === null
    ? '\\N'
    : value.replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
const arrayLiteral = (items: readonly string[]): string =>
  `{${items.map((i) => `"${i.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
function textRow(r: ChainedRow): string {
  const e = r.event;
  return `${[
    e.id,
    escaped(e.type),
    String(e.schemaVersion),
    escaped(e.time),
    e.sessionId,
    e.requestId,
    escaped(e.actor?.issuer ?? null),
    escaped(e.actor?.subject ?? null),
    e.actor ? escaped(arrayLiteral(e.actor.groups)) : '\\N',
    escaped(e.connection),
    escaped(e.protocol),
    escaped(e.source),
    escaped(r.raw),
    String(r.chain),
    r.seq,
    `\\\\x${r.prevHash.toString('hex')}`,
    `\\\\x${r.hash.toString('hex')}`,
    r.offset,
  ].join('\t')}\n`;
}

const two = (n: number): string => String(n).padStart(2, '0');

/** Times as the contract takes them: valid dates of years 0–9999, seconds and fraction optional, Z or ±HH:MM. */
const contractTime = fc
  .record({
    year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 1990, max: 2100 })),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.option(fc.integer({ min: 0, max: 59 })),
    fraction: fc.option(fc.stringMatching(/^[0-9]{1,10}$/)),
    zone: fc.option(
      fc.record({
        sign: fc.constantFrom('+', '-'),
        hours: fc.integer({ min: 0, max: 23 }),
        minutes: fc.integer({ min: 0, max: 59 }),
      }),
    ),
  })
  .filter(({ year, month, day }) => {
    // Only real dates: the contract refuses the others before the store sees them.
    const d = new Date(0);
    d.setUTCFullYear(year, month - 1, day);
    return d.getUTCDate() === day;
  })
  .map(({ year, month, day, hour, minute, second, fraction, zone }) => {
    const seconds = second === null ? '' : `:${two(second)}${fraction === null ? '' : `.${fraction}`}`;
    const z = zone === null ? 'Z' : `${zone.sign}${two(zone.hours)}:${two(zone.minutes)}`;
    return `${String(year).padStart(4, '0')}-${two(month)}-${two(day)}T${two(hour)}:${two(minute)}${seconds}${z}`;
  });

/** Any text, now and then a NUL or a lone surrogate (which the store refuses or stores as U+FFFD). */
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom('\\', '\t', '\n', '\r', '"', ',', '{', '}', 'N', 'U', 'L', ' ', 'é'),
    maxLength: 8,
  }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

const uuid = fc.integer({ min: 0, max: 2 ** 48 - 1 }).map((ms) => uuidv7At(ms));
const int64 = fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String);

const chainedRow = fc
  .record({
    id: uuid,
    type: text,
    time: contractTime,
    sessionId: uuid,
    requestId: uuid,
    actor: fc.option(fc.record({ issuer: text, subject: text, groups: fc.array(text, { maxLength: 4 }) })),
    connection: fc.option(text),
    protocol: text,
    source: text,
    json: fc.jsonValue({ maxDepth: 3 }),
    chain: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    seq: int64,
    offset: int64,
    prevHash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
    hash: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  })
  .map(
    (g): ChainedRow => ({
      event: {
        id: g.id,
        schemaVersion: 1,
        type: g.type,
        time: g.time,
        sessionId: g.sessionId,
        requestId: g.requestId,
        actor: g.actor,
        connection: g.connection,
        protocol: g.protocol,
        source: g.source,
      } as unknown as AuditEvent,
      raw: JSON.stringify(g.json),
      chain: g.chain,
      seq: g.seq,
      offset: g.offset,
      prevHash: Buffer.from(g.prevHash),
      hash: Buffer.from(g.hash),
    }),
  );

describe('binary COPY rows against the text form, on the real PostgreSQL', () => {
  let db: TestDatabase;
  let client: Client;
  const columns = COPY_COLUMNS.map((c) => (c === 'event' ? 'event::text' : c)).join(', ');

  beforeAll(async () => {
    Logger.overrideLogger(false);
    db = await TestDatabase.create('airlock_copy_binary');
    const owner = await new DataSource(
      ownerOptions({ DATABASE_URL: db.recorderUrl, DATABASE_OWNER_URL: db.url } as never),
    ).initialize();
    await prepareStore(owner, roleOf(db.recorderUrl));
    await owner.destroy();
    client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query('CREATE TABLE copy_text (LIKE audit_event INCLUDING DEFAULTS)');
    await client.query('CREATE TABLE copy_binary (LIKE audit_event INCLUDING DEFAULTS)');
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  /** Runs one COPY in a transaction of its own: null when stored, else the SQLSTATE of the refusal. */
  async function copy(sql: string, data: () => Buffer[]): Promise<string | null> {
    await client.query('BEGIN');
    try {
      await pipeline(Readable.from(data()), client.query(copyFrom(sql)));
      await client.query('COMMIT');
      return null;
    } catch (err) {
      await client.query('ROLLBACK');
      const code = (err as { code?: string }).code;
      if (typeof code !== 'string') throw err;
      return code;
    }
  }

  const textCopy = (rows: ChainedRow[]): Promise<string | null> =>
    copy(`COPY copy_text (${COPY_COLUMNS.join(', ')}) FROM STDIN`, () => [
      Buffer.from(rows.map(textRow).join(''), 'utf8'),
    ]);

  /**
   * The rows as the recorder writes them: each row when its event is received (a refusal there
   * is that row's outcome), then one binary COPY of those written. The SQLSTATE of the first
   * refusal, or null when every row is stored.
   */
  async function binaryCopy(rows: ChainedRow[]): Promise<string | null> {
    const writer = new EventWriter(4096);
    const written: (WrittenEvent & { offset: string })[] = [];
    for (const r of rows) {
      try {
        writer.write(r.event, Buffer.from(r.raw), 'canonical');
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code !== 'string') throw err;
        return code;
      }
      written.push({ ...writer.lastWritten(), offset: r.offset });
    }
    return copy(`COPY copy_binary (${COPY_COLUMNS.join(', ')}) FROM STDIN (FORMAT binary)`, () => {
      const out = new CopyRows();
      rows.forEach((r, i) => out.row(written[i], r.chain, r.seq, r.prevHash.toString('hex'), r.hash.toString('hex')));
      return copyData(out.chunks());
    });
  }

  async function both(rows: ChainedRow[]): Promise<{ text: string | null; binary: string | null }> {
    await client.query('TRUNCATE copy_text, copy_binary');
    return { text: await textCopy(rows), binary: await binaryCopy(rows) };
  }

  async function sameRows(): Promise<void> {
    const differ = await client.query(
      `SELECT count(*)::int AS n FROM ((SELECT ${columns} FROM copy_text EXCEPT ALL SELECT ${columns} FROM copy_binary)
         UNION ALL (SELECT ${columns} FROM copy_binary EXCEPT ALL SELECT ${columns} FROM copy_text)) d`,
    );
    expect(differ.rows[0].n).toBe(0);
  }

  it('refuses each row exactly when the text form does, with the same SQLSTATE, and stores the same values for the rest', async () => {
    let stored = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(chainedRow, { minLength: 1, maxLength: 4 }), async (rows) => {
        // Each row alone, as the recorder stores a batch the store refused.
        const accepted: ChainedRow[] = [];
        for (const r of rows) {
          const outcome = await both([r]);
          expect(outcome.binary).toBe(outcome.text);
          if (outcome.text === null) accepted.push(r);
          else refused++;
        }
        if (accepted.length === 0) return;
        // Those taken, together in one COPY each way.
        expect(await both(accepted)).toEqual({ text: null, binary: null });
        stored += accepted.length;
        const counts = await client.query('SELECT (SELECT count(*) FROM copy_binary)::int AS n');
        expect(counts.rows[0].n).toBe(accepted.length);
        await sameRows();
      }),
      { numRuns: 200 },
    );
    // Both outcomes were exercised.
    expect(stored).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(10);
  });

  it('refuses a NUL in a text column as the text form does, when a column before it would be refused too', async () => {
    const base = fc.sample(chainedRow, { numRuns: 1, seed: 7 })[0];
    const actor = { issuer: '\0', subject: 's', groups: [] };
    const cases = [
      { time: '1990-01-01T00:00+16:00', actor },
      { time: '0000-01-01T00:00Z', source: 'a\0' },
      { sessionId: 'not-a-uuid', type: '\0' },
    ];
    for (const c of cases) {
      const outcome = await both([{ ...base, event: { ...base.event, ...c } as AuditEvent }]);
      expect(outcome).toEqual({ text: '22021', binary: '22021' });
    }
  });

  it('stores the instants of hand-picked times exactly as their text does', async () => {
    const base = fc.sample(chainedRow, { numRuns: 1, seed: 7 })[0];
    const times = [
      '2026-01-01T00:00:00.123Z',
      '2026-01-01T00:00Z',
      '1999-12-31T23:59:59.9999995Z',
      '2000-01-01T00:00:00.0000005Z',
      '2000-01-01T00:00:00.0000015Z',
      '0001-01-01T00:00:00+15:59',
      '9999-12-31T23:59:59.9999999-15:59',
      '2028-02-29T23:59:59.999999+00:00',
    ];
    const rows = times.map((time, i) => ({ ...base, seq: String(i), event: { ...base.event, time } }));
    expect(await both(rows)).toEqual({ text: null, binary: null });
    await sameRows();
  });
});
