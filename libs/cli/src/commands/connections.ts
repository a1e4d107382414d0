import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ConnectionActor, ConnectionView } from '@airlock/contracts';
import { Run, type CliIo } from '../context';
import { CliError, ExitCode, UsageError } from '../errors';
import { fields, table } from '../render';

const actor = (a: ConnectionActor | null | undefined) => (a ? `${a.subject} (${a.issuer})` : null);

export function connectionsTable(list: ConnectionView[]): string {
  if (list.length === 0) return 'No connections.\n';
  return table(list, [
    { header: 'NAME', value: (c) => c.name },
    { header: 'PROTOCOL', value: (c) => c.protocol },
    { header: 'KIND', value: (c) => c.credentialKind },
    { header: 'UPSTREAM', value: (c) => c.upstream, max: 48 },
    { header: 'SECRET', value: (c) => (c.secretVersion === null ? 'none' : `v${c.secretVersion}`) },
    { header: 'ROTATED', value: (c) => c.secretSetAt },
    { header: 'BY', value: (c) => c.secretSetBy?.subject ?? null },
  ]);
}

function connectionFields(c: ConnectionView): string {
  return fields([
    ['name', c.name],
    ['protocol', c.protocol],
    ['upstream', c.upstream],
    ['credential kind', c.credentialKind],
    ['agent credential headers', c.agentCredentialHeaders.join(', ') || '-'],
    ['secret version', c.secretVersion === null ? 'none set' : c.secretVersion],
    ['last rotated at', c.secretSetAt],
    ['last rotated by', actor(c.secretSetBy)],
    ['created at', c.createdAt],
    ['created by', actor(c.createdBy)],
  ]);
}

/** The secret's fields as a JSON object, from a file or standard input: never from the command line. */
export function parseSecret(text: string, from: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Never quote the text: it is a secret.
    throw new UsageError(`the secret read from ${from} is not JSON (give an object such as {"token": "..."})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError(`the secret read from ${from} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

export function registerConnections(program: Command, io: CliIo): void {
  const group = program.command('connections').description('connections and their credentials (vault administrators)');

  group
    .command('ls')
    .description('list connections, with their secret version and last rotation')
    .action(async (_o: unknown, cmd: Command) => {
      const run = new Run(io, cmd);
      const { body } = await run.client.call<{ connections: ConnectionView[] }>('vault', 'GET', '/connections');
      run.print(body, (b) => connectionsTable(b.connections));
    });

  group
    .command('show <name>')
    .description('one connection')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const run = new Run(io, cmd);
      const { body } = await run.client.call<ConnectionView>(
        'vault',
        'GET',
        `/connections/${encodeURIComponent(name)}`,
      );
      run.print(body, connectionFields);
    });

  group
    .command('create <name>')
    .description('add a connection (set its secret with `connections rotate`)')
    .requiredOption('--protocol <protocol>', 'http or postgres')
    .requiredOption('--upstream <url>', 'where requests go, without credentials')
    .requiredOption('--kind <kind>', 'credential kind: bearer, header, basic, aws-sigv4, postgres-password')
    .option('--agent-header <name...>', "request headers stripped from the agent's request (default: authorization)")
    .action(
      async (
        name: string,
        o: { protocol: string; upstream: string; kind: string; agentHeader?: string[] },
        cmd: Command,
      ) => {
        const run = new Run(io, cmd);
        const { body } = await run.client.call<ConnectionView>('vault', 'POST', '/connections', {
          body: {
            name,
            protocol: o.protocol,
            upstream: o.upstream,
            credentialKind: o.kind,
            ...(o.agentHeader ? { agentCredentialHeaders: o.agentHeader } : {}),
          },
        });
        run.print(body, (c) => `Created connection ${c.name}.\n${connectionFields(c)}`);
      },
    );

  group
    .command('rotate <name>')
    .description("set a new version of the connection's secret, read as JSON from standard input or a file")
    .option('--from-file <path>', 'read the secret fields from this file instead of standard input')
    .action(async (name: string, o: { fromFile?: string }, cmd: Command) => {
      const run = new Run(io, cmd);
      let text: string;
      let from: string;
      if (o.fromFile !== undefined) {
        from = o.fromFile;
        try {
          text = readFileSync(o.fromFile, 'utf8');
        } catch (err) {
          throw new CliError(
            `cannot read ${o.fromFile}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
            ExitCode.Usage,
          );
        }
      } else {
        if (io.stdinIsTty) io.err('Secret fields as JSON (e.g. {"token": "..."}), then Ctrl-D:\n');
        from = 'standard input';
        text = await io.readStdin();
      }
      const secret = parseSecret(text, from);
      const { body } = await run.client.call<{ connection: string; secretVersion: number }>(
        'vault',
        'PUT',
        `/connections/${encodeURIComponent(name)}/secret`,
        { body: secret },
      );
      run.print(body, (b) => `Stored secret version ${b.secretVersion} of ${b.connection}.\n`);
    });
}
