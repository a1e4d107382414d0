/**
 * Human approval latency, on the whole system (ingress, policy, approval with its BullMQ workers,
 * vault, recorder) over the real Kafka, PostgreSQL and Redis, with a local Slack webhook sink:
 *
 *   notify   from the `review` decision (the ingress's operation.decided event) to the Slack sink
 *            receiving the message about that approval;
 *   release  from an approver's POST /approvals/<id>/approve leaving the client to the held HTTP
 *            request's answer arriving at the agent.
 *
 * Each of N approvals: an agent request that policy sends for review is held by the ingress, the
 * Slack message arrives, an approver approves it through the API, the held request completes.
 * Prints p50/p95/p99/max and writes bench/results/approval.md.
 *
 *   node dist/bench/approval.js [N=500] [CONCURRENCY=1] [NOTIFY_MAX_PER_SECOND=20]
 *
 * NOTIFY_MAX_PER_SECOND is the approval service's limiter of notifications (20 by default, far
 * above what one Slack webhook accepts); raise it to see what the pipeline does unthrottled.
 *
 * Needs the local infrastructure (infra/local/start.sh) and a build (npm run build).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Topics } from '@airlock/contracts';
import { SlackSink, infraEnv, kafkaSasl, repoRoot, waitFor, type SlackMessage } from '@airlock/testing';
import { TestSystem } from '../test/support/system';
import { percentile } from './percentile';

const N = Number(process.argv[2] ?? 500);
const CONCURRENCY = Number(process.argv[3] ?? 1);
const RATE = process.argv[4] ?? '20';

interface Sample {
  notifyMs: number;
  releaseMs: number;
}

function stats(values: number[]): { p50: number; p95: number; p99: number; max: number; mean: number } {
  const s = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

async function main(): Promise<void> {
  const slack = await SlackSink.start();
  const sys = new TestSystem();
  // The decision times come off the audit stream itself: a consumer of its own, from now on.
  const kafka = new Kafka({
    clientId: 'bench-approval',
    brokers: infraEnv().KAFKA_BROKERS.split(','),
    sasl: kafkaSasl(),
    logLevel: logLevel.NOTHING,
  });
  const consumer = kafka.consumer({ groupId: `bench-approval-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 50 });
  const decidedAt = new Map<string, number>(); // requestId → operation.decided time
  const heldRequest = new Map<string, string>(); // approvalId → requestId
  const messages = new Map<string, SlackMessage>();
  slack.onMessage = (m) => {
    const id = /approvals\/([0-9a-f-]{36})/.exec(m.text)?.[1];
    if (id) messages.set(id, m);
  };
  try {
    await sys.start({
      ingressEnv: { APPROVAL_HTTP_WAIT_MS: '60000', LOG_LEVEL: 'warn' },
      approvalEnv: { SLACK_WEBHOOK_URL: slack.url, LOG_LEVEL: 'warn', NOTIFY_MAX_PER_SECOND: RATE },
    });
    await consumer.connect();
    await consumer.subscribe({ topic: Topics.Audit, fromBeginning: false });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const e = JSON.parse(message.value?.toString() ?? '{}') as {
          type?: string;
          time?: string;
          requestId?: string;
          data?: { decision?: string; approvalId?: string };
        };
        if (e.type === 'operation.decided' && e.data?.decision === 'review' && e.requestId && e.time) {
          decidedAt.set(e.requestId, Date.parse(e.time));
        } else if (e.type === 'operation.held' && e.requestId && e.data?.approvalId) {
          heldRequest.set(e.data.approvalId, e.requestId);
        }
      },
    });
    // The consumer must own its partitions before the first request.
    await new Promise((r) => setTimeout(r, 3000));
    const agent = await sys.token('agent-bench', ['agents']);
    const approver = await sys.token('approver-bench', ['approvers']);
    const tag = randomBytes(4).toString('hex');

    const one = async (i: number): Promise<Sample> => {
      const path = `/held/items/${tag}-${i}`;
      const held = sys.call(`/c/demo${path}`, { method: 'DELETE', token: agent });
      const [id, msg] = await waitFor(
        `the Slack message of request ${i}`,
        () => [...messages].find(([, m]) => m.text.includes(path)),
        { timeoutMs: 30000, intervalMs: 2 },
      );
      const requestId = await waitFor(`operation.held of ${id}`, () => heldRequest.get(id), { intervalMs: 2 });
      const decided = await waitFor(`operation.decided of ${requestId}`, () => decidedAt.get(requestId), {
        intervalMs: 2,
      });
      const approveStarted = performance.now();
      const approved = await sys.approvalApi(`/approvals/${id}/approve`, { method: 'POST', token: approver });
      if (approved.status !== 200) throw new Error(`approve answered ${approved.status}: ${approved.text}`);
      const res = await held;
      const releaseMs = performance.now() - approveStarted;
      if (res.status !== 200) throw new Error(`held request answered ${res.status}: ${res.text}`);
      return { notifyMs: msg.at - decided, releaseMs };
    };

    // Warm-up, not measured.
    for (let i = 0; i < 10; i++) await one(-1 - i);
    const samples: Sample[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < N) samples.push(await one(next++));
      }),
    );
    const wallS = (performance.now() - started) / 1000;
    const notify = stats(samples.map((s) => s.notifyMs));
    const release = stats(samples.map((s) => s.releaseMs));
    const row = (name: string, s: ReturnType<typeof stats>) =>
      `| ${name} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.max.toFixed(1)} | ${s.mean.toFixed(1)} | ${s.p99 <= 250 ? 'met' : 'missed'} |`;
    const report = [
      '# Approval latency',
      '',
      `${samples.length} approvals, ${CONCURRENCY} at a time, ${wallS.toFixed(1)} s, notifications limited to ${RATE}/s; ` +
        `${cpus().length} cores shared by Kafka, PostgreSQL, Redis, the five services and this client. ` +
        `\`node dist/bench/approval.js ${N} ${CONCURRENCY} ${RATE}\`, ${new Date().toISOString().slice(0, 10)}.`,
      '',
      '| interval | p50 ms | p95 ms | p99 ms | max ms | mean ms | goal p99 ≤ 250 ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
      row('review decision → Slack sink has the message', notify),
      row('approve call → held request answered', release),
      '',
      "The first interval starts at the `time` of the ingress's `operation.decided` event (review) and ends when " +
        'the sink receives the webhook call; the second is measured by the client, from sending the approval ' +
        'to receiving the held answer.',
      '',
    ].join('\n');
    process.stdout.write(`${report}\n`);
    const dir = join(repoRoot(), 'bench', 'results');
    mkdirSync(dir, { recursive: true });
    const name = CONCURRENCY === 1 ? 'approval' : `approval-c${CONCURRENCY}${RATE === '20' ? '' : `-r${RATE}`}`;
    writeFileSync(join(dir, `${name}.md`), report);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await sys.stop();
    await slack.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench/approval: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
