/**
 * Kafka request/reply round trip: the ingress's client (libs/messaging) against the real policy
 * service (NestJS Kafka microservice) on the local broker. Sequential calls give the latency of
 * one round trip; a second run keeps several calls in flight for throughput.
 *
 *   node dist/bench/kafka-request-reply.js [calls=10000] [concurrency=16]
 *
 * Needs the local infrastructure (infra/local/start.sh) and a build (npm run build).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Topics, uuidv7, type PolicyEvaluateRequest } from '@airlock/contracts';
import { RequestReplyClient, createKafka } from '@airlock/messaging';
import {
  ServiceProcess,
  allowTestGroups,
  freePort,
  infraEnv,
  kafkaSasl,
  repoRoot,
  runId,
  testSigner,
  testTrustedKeys,
} from '@airlock/testing';
import { percentile } from './percentile';

const quiet = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined };

function request(): PolicyEvaluateRequest {
  return {
    requestId: uuidv7(),
    sessionId: uuidv7(),
    principal: { issuer: 'http://127.0.0.1:18900', subject: 'bench', groups: ['agents'] },
    connection: 'demo',
    protocol: 'http',
    operation: { kind: 'http', method: 'GET', path: '/items' },
  };
}

async function main(): Promise<void> {
  const calls = Number(process.argv[2] ?? 10000);
  const concurrency = Number(process.argv[3] ?? 16);
  const prefix = `bench-${runId()}`;
  const infra = infraEnv();
  const policy = new ServiceProcess('policy', await freePort(), {
    KAFKA_BROKERS: infra.KAFKA_BROKERS,
    KAFKA_GROUP_PREFIX: prefix,
    POLICY_FILE: join(repoRoot(), 'config', 'policy.yaml'),
    LOG_LEVEL: 'warn',
  });
  await policy.start();
  const kafka = createKafka(
    { brokers: infra.KAFKA_BROKERS.split(','), sasl: kafkaSasl('ingress-proxy'), clientId: 'bench-rr' },
    quiet,
  );
  // As the ingress does it: its principal and group, requests signed, decisions verified.
  await allowTestGroups('ingress-proxy', prefix);
  const client = new RequestReplyClient(kafka, {
    groupId: `${prefix}-ingress-proxy-bench`,
    topics: [Topics.PolicyEvaluate],
    security: { signer: testSigner('ingress-proxy'), trust: testTrustedKeys() },
  });
  await client.connect();
  try {
    for (let i = 0; i < 500; i++) await client.request(Topics.PolicyEvaluate, 'k', request(), 5000);

    const latencies: number[] = [];
    const started = performance.now();
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      const r = request();
      const d = await client.request(Topics.PolicyEvaluate, r.sessionId, r, 5000);
      if (d.decision !== 'allow') throw new Error(`unexpected decision ${d.decision}`);
      latencies.push(performance.now() - t);
    }
    const seqSeconds = (performance.now() - started) / 1000;
    latencies.sort((a, b) => a - b);

    let next = 0;
    const inflight: number[] = [];
    const cStarted = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < calls) {
          next++;
          const t = performance.now();
          const r = request();
          await client.request(Topics.PolicyEvaluate, r.sessionId, r, 5000);
          inflight.push(performance.now() - t);
        }
      }),
    );
    const cSeconds = (performance.now() - cStarted) / 1000;
    inflight.sort((a, b) => a - b);

    const f = (n: number) => n.toFixed(2);
    const rows = [
      `| sequential (1 in flight) | ${calls} | ${f(percentile(latencies, 50))} | ${f(percentile(latencies, 99))} | ${f(latencies[latencies.length - 1])} | ${Math.round(calls / seqSeconds)} |`,
      `| ${concurrency} in flight | ${calls} | ${f(percentile(inflight, 50))} | ${f(percentile(inflight, 99))} | ${f(inflight[inflight.length - 1])} | ${Math.round(calls / cSeconds)} |`,
    ];
    const p50 = percentile(latencies, 50);
    const report = [
      '# Kafka request/reply round trip',
      '',
      `Measured ${new Date().toISOString()} on ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}.`,
      'Client: `RequestReplyClient` (libs/messaging). Server: the policy service (NestJS Kafka microservice, `@MessagePattern`).',
      'Broker: local Kafka 4.1.1, one KRaft node; produce with acks=all; both sides validate every message against its contract.',
      '',
      '| run | calls | p50 ms | p99 ms | max ms | calls/s |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
      '',
      `Goal: p50 ≤ 3 ms → ${p50 <= 3 ? 'met' : 'missed'} (p50 ${f(p50)} ms).`,
      '',
    ].join('\n');
    const out = join(repoRoot(), 'bench', 'results');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'kafka-request-reply.md'), report);
    process.stdout.write(report);
  } finally {
    await client.close();
    await policy.stop();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
