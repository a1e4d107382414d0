import { Logger } from '@nestjs/common';
import { InvalidInputError, NotFoundError } from '../errors';
import { EventCursorSchema, SessionCursorSchema, decodeCursor } from './dto/cursor';
import type {
  ChainPosition,
  EventRow,
  ExportRow,
  ReplayRepository,
  SessionFilter,
  SessionRow,
} from './replay.repository';
import { EXPORT_PAGE_SIZE, ReplayService } from './replay.service';
import type { TimeRange } from './time-range';

const SESSION = '019abcde-0000-7000-8000-00000000000a';

function sessionRow(n: number): SessionRow {
  const t = new Date(Date.parse('2026-11-25T11:00:00.000Z') - n * 1000);
  return {
    session_id: `019abcde-0000-7000-8000-${String(n).padStart(12, '0')}`,
    started_key: t.toISOString().replace('Z', '123Z'),
    started_at: t,
    ended_at: new Date(t.getTime() + 500),
    issuer: 'https://idp',
    subject: 'agent',
    connection: 'demo',
    protocol: 'http',
    events: '6',
    operations: '2',
    allowed: '1',
    denied: '1',
    reviewed: '0',
    approved: '0',
    masked: '3',
  };
}

function eventRow(chain: number, seq: number): EventRow {
  return {
    chain,
    seq: String(seq),
    prev_hash: Buffer.alloc(32, seq - 1),
    hash: Buffer.alloc(32, seq),
    event: { type: 'operation.denied', data: { reason: 'no', policyVersion: '1' } },
  };
}

/** A store of `chains` chains of `perChain` events each, read the way the repository reads it. */
class FakeRepository {
  readonly sessionCalls: SessionFilter[] = [];
  readonly exportCalls: ChainPosition[] = [];
  sessionRows: SessionRow[] = [];
  eventRows: EventRow[] = [];
  exported: ExportRow[] = [];
  exists = true;
  failExportAt = Infinity;

  async sessions(f: SessionFilter): Promise<SessionRow[]> {
    this.sessionCalls.push(f);
    return this.sessionRows.slice(0, f.limit);
  }

  async sessionEvents(_id: string, after: ChainPosition | null, limit: number): Promise<EventRow[]> {
    const from = after ? this.eventRows.findIndex((r) => Number(r.seq) > Number(after.seq)) : 0;
    return from < 0 ? [] : this.eventRows.slice(from, from + limit);
  }

  async sessionExists(): Promise<boolean> {
    return this.exists;
  }

  async exportPage(_range: TimeRange, after: ChainPosition, limit: number): Promise<ExportRow[]> {
    this.exportCalls.push(after);
    if (this.exportCalls.length >= this.failExportAt) throw new Error('connection terminated');
    const rest = this.exported.filter(
      (r) => r.chain > after.chain || (r.chain === after.chain && Number(r.seq) > Number(after.seq)),
    );
    return rest.slice(0, limit);
  }
}

function setup(now = Date.parse('2026-11-25T12:00:00.000Z')) {
  const repo = new FakeRepository();
  const clock = { now };
  const service = new ReplayService(repo as unknown as ReplayRepository, () => clock.now);
  return { repo, clock, service };
}

describe('the replay service', () => {
  describe('session listing', () => {
    it('passes every filter on, over the last day by default, and answers the figures as numbers', async () => {
      const { repo, service } = setup();
      repo.sessionRows = [sessionRow(1)];
      const page = await service.sessions({ limit: 50, principal: 'agent', decision: 'deny', hasMasking: true });
      expect(repo.sessionCalls[0]).toEqual({
        range: { from: '2026-11-24T12:00:00.000Z', to: '2026-11-25T12:00:00.000Z' },
        subject: 'agent',
        issuer: null,
        connection: null,
        protocol: null,
        decision: 'deny',
        hasMasking: true,
        after: null,
        limit: 51,
      });
      expect(page).toEqual({
        items: [
          {
            sessionId: '019abcde-0000-7000-8000-000000000001',
            principal: { issuer: 'https://idp', subject: 'agent' },
            connection: 'demo',
            protocol: 'http',
            startedAt: '2026-11-25T10:59:59.000Z',
            endedAt: '2026-11-25T10:59:59.500Z',
            events: 6,
            operations: 2,
            decisions: { allow: 1, deny: 1, review: 0, approved: 0 },
            masked: 3,
          },
        ],
        nextCursor: null,
      });
    });

    it('gives a cursor only when there is more, holding the last sort key and the range', async () => {
      const { repo, service } = setup();
      repo.sessionRows = [1, 2, 3].map(sessionRow);
      const page = await service.sessions({ limit: 2 });
      expect(page.items).toHaveLength(2);
      expect(decodeCursor(SessionCursorSchema, page.nextCursor!)).toEqual({
        from: '2026-11-24T12:00:00.000Z',
        to: '2026-11-25T12:00:00.000Z',
        startedAt: sessionRow(2).started_key,
        sessionId: sessionRow(2).session_id,
      });
      repo.sessionRows = [3].map(sessionRow);
      expect((await service.sessions({ limit: 2, cursor: page.nextCursor! })).nextCursor).toBeNull();
    });

    it('keeps the range of the first page while paging, though the clock moved', async () => {
      const { repo, clock, service } = setup();
      repo.sessionRows = [1, 2].map(sessionRow);
      const first = await service.sessions({ limit: 1 });
      clock.now += 3_600_000;
      await service.sessions({ limit: 1, cursor: first.nextCursor! });
      expect(repo.sessionCalls[1].range).toEqual(repo.sessionCalls[0].range);
      expect(repo.sessionCalls[1].after).toEqual({
        startedAt: sessionRow(1).started_key,
        sessionId: sessionRow(1).session_id,
      });
      // The same range given again is fine, another one is not.
      await service.sessions({ limit: 1, cursor: first.nextCursor!, to: '2026-11-25T13:00:00+01:00' });
      await expect(
        service.sessions({ limit: 1, cursor: first.nextCursor!, from: '2026-11-25T00:00:00Z' }),
      ).rejects.toThrow(InvalidInputError);
    });

    it('checks the range a cursor carries like one given in the query', async () => {
      const { service } = setup();
      const forged = Buffer.from(
        JSON.stringify({
          from: '2025-01-01T00:00:00.000Z',
          to: '2026-11-25T12:00:00.000Z',
          startedAt: '2026-11-25T11:00:00.000000Z',
          sessionId: SESSION,
        }),
      ).toString('base64url');
      await expect(service.sessions({ limit: 5, cursor: forged })).rejects.toThrow(/at most 31 days/);
    });

    it('refuses a cursor of the events listing', async () => {
      const { service } = setup();
      const foreign = Buffer.from(JSON.stringify({ seq: 3, chain: 0 })).toString('base64url');
      await expect(service.sessions({ limit: 5, cursor: foreign })).rejects.toThrow(InvalidInputError);
    });
  });

  describe("a session's events", () => {
    it('pages through them in order with opaque cursors', async () => {
      const { repo, service } = setup();
      repo.eventRows = [1, 2, 3, 4, 5].map((s) => eventRow(2, s));
      const seen: number[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await service.events(SESSION, { limit: 2, cursor });
        pages++;
        seen.push(...page.items.map((i) => i.seq));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([1, 2, 3, 4, 5]);
      expect(pages).toBe(3);
    });

    it('answers chain, position, hex hashes and the summary with the stored event', async () => {
      const { repo, service } = setup();
      repo.eventRows = [eventRow(2, 7)];
      const page = await service.events(SESSION, { limit: 10 });
      expect(page).toEqual({
        sessionId: SESSION,
        items: [
          {
            chain: 2,
            seq: 7,
            prevHash: '06'.repeat(32),
            hash: '07'.repeat(32),
            event: repo.eventRows[0].event,
            summary: { reason: 'no' },
          },
        ],
        nextCursor: null,
      });
    });

    it('is 404 for a session with no stored event', async () => {
      const { service } = setup();
      await expect(service.events(SESSION, { limit: 10 })).rejects.toThrow(NotFoundError);
    });

    it('gives an empty page past the end of a known session, 404 past the end of an unknown one', async () => {
      const { repo, service } = setup();
      const past = Buffer.from(JSON.stringify({ seq: 99, chain: 0 })).toString('base64url');
      repo.eventRows = [eventRow(0, 1)];
      expect(decodeCursor(EventCursorSchema, past)).toEqual({ seq: 99, chain: 0 });
      await expect(service.events(SESSION, { limit: 10, cursor: past })).resolves.toEqual({
        sessionId: SESSION,
        items: [],
        nextCursor: null,
      });
      repo.exists = false;
      await expect(service.events(SESSION, { limit: 10, cursor: past })).rejects.toThrow(NotFoundError);
    });
  });

  describe('export', () => {
    const exportRow = (chain: number, seq: number): ExportRow => ({
      chain,
      seq: String(seq),
      prev_hash: Buffer.alloc(2, 0),
      hash: Buffer.alloc(2, 255),
      event: `{"n":"${chain}.${seq}","s":"a\\"b"}`,
    });

    async function read(stream: NodeJS.ReadableStream): Promise<string> {
      let text = '';
      for await (const chunk of stream) text += chunk.toString();
      return text;
    }

    it('streams every event of the range as one JSON line each, page after page in (chain, seq) order', async () => {
      const { repo, service } = setup();
      const perChain = EXPORT_PAGE_SIZE + 1;
      for (const chain of [0, 3]) for (let s = 1; s <= perChain; s++) repo.exported.push(exportRow(chain, s));
      const text = await read(await service.export({}));
      const lines = text.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines).toHaveLength(2 * perChain);
      const parsed = lines.map((l) => JSON.parse(l) as { chain: number; seq: number; hash: string; event: unknown });
      expect(parsed[0]).toEqual({ chain: 0, seq: 1, prevHash: '0000', hash: 'ffff', event: { n: '0.1', s: 'a"b' } });
      expect(parsed.map((p) => `${p.chain}.${p.seq}`)).toEqual(repo.exported.map((r) => `${r.chain}.${r.seq}`));
      // Keyset pages: each one starts after the last row of the one before; a short page ends it.
      expect(repo.exportCalls).toEqual([
        { chain: -1, seq: '0' },
        { chain: 0, seq: String(EXPORT_PAGE_SIZE) },
        { chain: 3, seq: String(EXPORT_PAGE_SIZE - 1) },
      ]);
    });

    it('streams nothing for an empty range', async () => {
      const { repo, service } = setup();
      expect(await read(await service.export({ from: '2026-11-01T00:00:00Z', to: '2026-11-02T00:00:00Z' }))).toBe('');
      expect(repo.exportCalls).toHaveLength(1);
    });

    it('fails before sending anything when the first page cannot be read, and cuts the stream later', async () => {
      const first = setup();
      first.repo.failExportAt = 1;
      await expect(first.service.export({})).rejects.toThrow('connection terminated');

      const later = setup();
      for (let s = 1; s <= EXPORT_PAGE_SIZE; s++) later.repo.exported.push(exportRow(0, s));
      later.repo.failExportAt = 2;
      const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        await expect(read(await later.service.export({}))).rejects.toThrow('connection terminated');
        expect(logged).toHaveBeenCalledWith(
          expect.objectContaining({ err: expect.stringContaining('terminated') }),
          'export cut short',
        );
      } finally {
        logged.mockRestore();
      }
    });

    it('refuses a range over the limit', async () => {
      const { service } = setup();
      await expect(service.export({ from: '2026-09-01T00:00:00Z' })).rejects.toThrow(InvalidInputError);
    });
  });
});
