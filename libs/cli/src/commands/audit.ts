import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { Run, type CliIo } from '../context';
import { CliError, ExitCode, UsageError } from '../errors';
import { cell, table } from '../render';

/** `30s`, `10m`, `2h`, `7d` → milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!m) throw new UsageError(`"${text.slice(0, 20)}" is not a duration (e.g. 30s, 10m, 2h, 7d)`);
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** An RFC 3339 time, or a duration before now (`2h`). */
export function parseTime(text: string, now: number): string {
  if (/^\d+\s*[smhd]$/.test(text.trim())) return new Date(now - parseDuration(text)).toISOString();
  const t = Date.parse(text);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    throw new UsageError(
      `"${text.slice(0, 40)}" is not a time (RFC 3339, e.g. 2026-12-01T09:00:00Z, or a duration ago, e.g. 2h)`,
    );
  }
  return new Date(t).toISOString();
}

interface ChainReport {
  chain: number;
  ok: boolean;
  verified: number;
  lastSeq: string | null;
  brokenAt: { seq: string; eventId?: string; problem: string } | null;
  truncated: { expectedSeq: string; lastSeq: string | null; reason: string } | null;
}

interface VerifyReport {
  ok: boolean;
  verifiedAt: string;
  chains: ChainReport[];
  checkpoints: { checked: number; invalid: Array<{ kind: string; chain: number; seq: string; problem: string }> };
  deadLetters: { count?: number } & Record<string, unknown>;
}

export function verifyText(r: VerifyReport): string {
  const rows = table(r.chains, [
    { header: 'CHAIN', value: (c) => c.chain, right: true },
    { header: 'STATUS', value: (c) => (c.ok ? 'ok' : 'BROKEN') },
    { header: 'LINKS', value: (c) => c.verified, right: true },
    { header: 'LAST SEQ', value: (c) => c.lastSeq, right: true },
    {
      header: 'FIRST PROBLEM',
      value: (c) =>
        c.brokenAt
          ? `seq ${c.brokenAt.seq}${c.brokenAt.eventId ? ` (event ${c.brokenAt.eventId})` : ''}: ${c.brokenAt.problem}`
          : c.truncated
            ? `ends at ${c.truncated.lastSeq ?? 'nothing'}, expected ${c.truncated.expectedSeq}: ${c.truncated.reason}`
            : null,
      max: 100,
    },
  ]);
  const invalid = r.checkpoints.invalid.map(
    (i) => `  checkpoint ${i.kind} of chain ${i.chain} at ${i.seq}: ${i.problem}\n`,
  );
  return (
    `${r.ok ? 'Audit store verified: every chain is sound.' : 'Audit store NOT sound.'} (${r.chains.length} chains, ` +
    `${r.checkpoints.checked} checkpoints, at ${r.verifiedAt})\n` +
    (r.chains.length > 0 ? rows : '') +
    invalid.join('')
  );
}

interface StoredEvent {
  chain: number;
  seq: number;
  event: {
    id: string;
    type: string;
    time: string;
    actor: { subject: string } | null;
    connection: string | null;
    data?: Record<string, unknown>;
  };
}

/** One line per event: time, type, who, where, and a gist of its data. */
export function eventLine(e: StoredEvent['event'], gist = ''): string {
  return `${cell(e.time, 30)}  ${cell(e.type, 24).padEnd(22)}  ${cell(e.actor?.subject ?? '-', 24)}  ${cell(e.connection ?? '-', 24)}${gist ? `  ${cell(gist, 100)}` : ''}\n`;
}

function splitLines(buffered: string): { lines: string[]; rest: string } {
  const parts = buffered.split('\n');
  return { lines: parts.slice(0, -1).filter((l) => l !== ''), rest: parts.at(-1) ?? '' };
}

export function registerAudit(program: Command, io: CliIo): void {
  const group = program.command('audit').description('the audit store (auditors)');

  group
    .command('verify')
    .description('verify the hash chains: every chain, or one; exit 1 when one is broken')
    .option('--chain <n>', 'only this chain (a partition of airlock.audit)')
    .action(async (o: { chain?: string }, cmd: Command) => {
      if (o.chain !== undefined && !/^\d+$/.test(o.chain)) throw new UsageError('--chain takes a chain number');
      const run = new Run(io, cmd);
      const { body } = await run.client.call<VerifyReport>(
        'recorder',
        'GET',
        `/audit/verify${o.chain !== undefined ? `?chain=${o.chain}` : ''}`,
      );
      run.print(body, verifyText);
      if (!body.ok) io.setExit(ExitCode.Failure);
    });

  group
    .command('export')
    .description('every stored event of a time range, as NDJSON (one event with its chain link per line)')
    .option('--from <time>', 'start, RFC 3339 or a duration ago (default: 24h before --to)')
    .option('--to <time>', 'end, exclusive (default: now)')
    .option('--output <file>', 'write to this file instead of standard output')
    .action(async (o: { from?: string; to?: string; output?: string }, cmd: Command) => {
      const now = Date.now();
      const q = new URLSearchParams();
      if (o.from) q.set('from', parseTime(o.from, now));
      if (o.to) q.set('to', parseTime(o.to, now));
      const run = new Run(io, cmd);
      const res = await run.client.stream('recorder', `/audit/export${q.size > 0 ? `?${q}` : ''}`);
      const file = o.output ? createWriteStream(o.output, { mode: 0o600 }) : null;
      let text = '';
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const s = decoder.decode(chunk, { stream: true });
        if (file) file.write(s);
        else io.out(s);
        text = s;
      }
      if (file)
        await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
      if (text !== '' && !text.endsWith('\n')) throw new CliError('the export was cut short: it is incomplete');
    });

  group
    .command('tail')
    .description('the latest audit events, oldest first; --follow keeps printing new ones')
    .option('--since <duration>', 'how far back to start', '10m')
    .option('--follow', 'keep polling for new events until interrupted')
    .option('--interval <duration>', 'how often to poll with --follow', '2s')
    .action(async (o: { since: string; follow?: boolean; interval: string }, cmd: Command) => {
      const since = parseDuration(o.since);
      const interval = parseDuration(o.interval);
      const run = new Run(io, cmd);
      const seen = new Set<string>();
      let from = Date.now() - since;
      for (;;) {
        const to = Date.now() + 1;
        const q = new URLSearchParams({ from: new Date(from).toISOString(), to: new Date(to).toISOString() });
        const res = await run.client.stream('recorder', `/audit/export?${q}`);
        const events: StoredEvent[] = [];
        const { lines } = splitLines((await res.text()) + '\n');
        for (const line of lines) events.push(JSON.parse(line) as StoredEvent);
        events.sort((a, b) => (a.event.time < b.event.time ? -1 : a.event.time > b.event.time ? 1 : 0));
        for (const e of events) {
          if (seen.has(e.event.id)) continue;
          seen.add(e.event.id);
          io.out(run.json ? `${JSON.stringify(e)}\n` : eventLine(e.event));
        }
        if (!o.follow) return;
        // Events may be stored a little after their time: look back a few seconds on each poll.
        from = Math.max(from, to - 10_000);
        if (seen.size > 100_000) seen.clear();
        await new Promise((r) => setTimeout(r, interval));
      }
    });
}
