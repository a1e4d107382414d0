import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/**
 * A fast server and a slow acknowledgement: the answer (or the deadline) settles a call while
 * its request is still being produced. The call must reject for its caller only; a rejection
 * nobody handles yet is what Node ends a process over. Node's own unhandled-rejection tracking
 * is what is checked, so the scenario runs in a process of its own, against a broker stand-in.
 */
const scenario = (src: string) => `
const seen = [];
process.on('unhandledRejection', (r) => seen.push('unhandled: ' + String(r)));
const { RequestReplyClient } = require(${JSON.stringify(join(src, 'request-reply.client.ts'))});
const { NestKafkaHeaders } = require(${JSON.stringify(join(src, 'headers.ts'))});
let deliver;
const buffers = (h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Buffer.from(v)]));
const producer = {
  connect: async () => {},
  disconnect: async () => {},
  sendBatch: async ({ topicMessages }) => {
    for (const { topic, messages } of topicMessages)
      for (const m of messages) await deliver({ topic, message: { headers: buffers(m.headers), value: null } });
  },
  send: async ({ topic, messages }) => {
    const id = messages[0].headers[NestKafkaHeaders.CorrelationId];
    if (process.argv[2] === 'answer') {
      const headers = { [NestKafkaHeaders.CorrelationId]: id, [NestKafkaHeaders.Error]: '{"message":"unknown connection"}' };
      await deliver({ topic: topic + '.reply', message: { headers: buffers(headers), value: null } });
    }
    await new Promise((r) => setTimeout(r, 60));
    return [];
  },
};
const consumer = {
  connect: async () => {},
  disconnect: async () => {},
  subscribe: async () => {},
  run: async ({ eachMessage }) => { deliver = eachMessage; },
};
const admin = {
  connect: async () => {},
  disconnect: async () => {},
  fetchTopicMetadata: async ({ topics }) => ({ topics: topics.map((name) => ({ name, partitions: [{ partitionId: 0 }] })) }),
};
(async () => {
  const client = new RequestReplyClient(
    { producer: () => producer, consumer: () => consumer, admin: () => admin },
    { groupId: 'g', topics: ['airlock.vault.lease'] },
  );
  await client.connect();
  const request = { requestId: '0192f0c0-0000-7000-8000-000000000001', connection: 'billing', ingressInstance: 't', publicKey: 'AAAA' };
  try {
    await client.request('airlock.vault.lease', 'billing', request, 20);
    seen.push('resolved');
  } catch (err) {
    seen.push('rejected: ' + err.message);
  }
  await client.close();
  process.stdout.write(JSON.stringify(seen));
})();
`;

function run(mode: 'answer' | 'deadline'): string[] {
  const root = resolve(__dirname, '../../..');
  const file = join(mkdtempSync(join(tmpdir(), 'airlock-rr-')), 'scenario.js');
  writeFileSync(file, scenario(__dirname));
  const out = execFileSync(process.execPath, [require.resolve('tsx/cli'), file, mode], {
    cwd: root,
    timeout: 30000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(out.toString()) as string[];
}

describe('RequestReplyClient', () => {
  it('rejects with the remote error when the answer comes before the request is acknowledged', () => {
    expect(run('answer')).toEqual(['rejected: airlock.vault.lease answered with an error: unknown connection']);
  });

  it('rejects with a timeout when the deadline passes before the request is acknowledged', () => {
    expect(run('deadline')).toEqual(['rejected: no answer on airlock.vault.lease within 20 ms']);
  });
});
