/**
 * What the Ed25519 message signatures cost per message on one core: signing and verifying a
 * policy request and a policy decision of the size the request/reply benchmark sends, with the
 * canonical JSON they cover measured apart. One policy call signs twice (the ingress its request,
 * policy its decision) and verifies once (the ingress the decision).
 *
 *   node dist/bench/signing-cost.js [iterations=20000]
 *
 * Prints a small markdown table (µs per operation, best of 3 runs).
 */
import { cpus } from 'node:os';
import { Topics, replyTopicOf, uuidv7, type PolicyDecision, type PolicyEvaluateRequest } from '@airlock/contracts';
import { MessageSigner, TrustedKeys, generateSigningKeyPair, signedBytes } from '@airlock/sealing';

function bestMicros(iterations: number, fn: () => void): number {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const t = performance.now();
    for (let i = 0; i < iterations; i++) fn();
    best = Math.min(best, ((performance.now() - t) * 1000) / iterations);
  }
  return best;
}

function main(): void {
  const iterations = Number(process.argv[2] ?? 20000);
  const ingressKeys = generateSigningKeyPair();
  const policyKeys = generateSigningKeyPair();
  const ingress = MessageSigner.fromPem('ingress-proxy', ingressKeys.privateKeyPem);
  const policy = MessageSigner.fromPem('policy', policyKeys.privateKeyPem);
  const trust = TrustedKeys.fromJson(
    JSON.stringify({
      keys: [
        { signer: 'ingress-proxy', publicKey: ingressKeys.publicKeyPem },
        { signer: 'policy', publicKey: policyKeys.publicKeyPem },
      ],
    }),
  );
  const request: PolicyEvaluateRequest = {
    requestId: uuidv7(),
    sessionId: uuidv7(),
    principal: { issuer: 'http://127.0.0.1:18900', subject: 'bench', groups: ['agents'] },
    connection: 'demo',
    protocol: 'http',
    operation: { kind: 'http', method: 'GET', path: '/items' },
  };
  const decision: PolicyDecision = {
    requestId: request.requestId,
    decision: 'allow',
    reason: 'rule allow-read-items',
    ruleId: 'allow-read-items',
    policyVersion: 'sha256:0123456789abcdef',
    masking: [],
  };
  const requestContext = { topic: Topics.PolicyEvaluate, correlationId: uuidv7() };
  const replyContext = { topic: replyTopicOf(Topics.PolicyEvaluate), correlationId: requestContext.correlationId };
  const signedRequest = ingress.sign(requestContext, request);
  const signedDecision = policy.sign(replyContext, decision);

  const rows: [string, number][] = [
    [
      'canonical JSON of a request (what is signed)',
      bestMicros(iterations, () => signedBytes(requestContext, request)),
    ],
    ['sign a request (canonical JSON + Ed25519)', bestMicros(iterations, () => ingress.sign(requestContext, request))],
    ['sign a decision', bestMicros(iterations, () => policy.sign(replyContext, decision))],
    [
      'verify a decision (canonical JSON + Ed25519)',
      bestMicros(iterations, () => trust.verify(replyContext, signedDecision, ['policy'])),
    ],
    ['verify a request', bestMicros(iterations, () => trust.verify(requestContext, signedRequest, ['ingress-proxy']))],
  ];
  const perCall = rows[1][1] + rows[2][1] + rows[3][1];
  const lines = [
    `Signature cost on ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${iterations} iterations, best of 3:`,
    '',
    '| operation | µs |',
    '| --- | ---: |',
    ...rows.map(([name, us]) => `| ${name} | ${us.toFixed(1)} |`),
    `| one policy call: sign request + sign decision + verify decision | ${perCall.toFixed(1)} |`,
    '',
    `Signed sizes: request ${JSON.stringify(signedRequest).length} bytes (${JSON.stringify(request).length} unsigned), decision ${JSON.stringify(signedDecision).length} bytes (${JSON.stringify(decision).length} unsigned).`,
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

main();
