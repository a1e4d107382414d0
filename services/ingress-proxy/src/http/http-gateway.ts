import { Inject, Injectable, Logger } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import {
  ConnectionNameSchema,
  truncateText,
  uuidv7,
  type AuditEventDraft,
  type HttpOperation,
  type McpToolName,
  type Principal,
} from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import { tracingEnabled } from '@airlock/observability';
import type { CredentialNeedles } from '@airlock/masking';
import { httpApprovalDetail } from '../approval-client/approval-detail';
import { httpOperationFingerprint } from '../approval-client/operation-fingerprint';
import { INGRESS_CONFIG, type IngressConfig } from '../config';
import { ConnectionRegistry } from '../connections/connection.registry';
import { LeaseClient, type ActiveLease } from '../credentials/lease.client';
import { GatewayError, type FailureStage } from '../errors';
import { ResponseMasking } from '../masking/response-masking';
import {
  auditedOperation,
  httpCompletedDraft,
  httpFailedDraft,
  httpOperation,
  interceptedDraft,
  type Envelope,
  type Folded,
} from '../operation/operation-audit';
import {
  OperationPipeline,
  type Admitted,
  type Decided,
  type HoldOutcome,
  type Operation,
} from '../operation/pipeline';
import { Refusal } from '../operation/refusal';
import { traceOperation, type TraceIds } from '../operation/operation-trace';
import { BodyTooLargeError, HeldBudget, readBodyWithin } from './held-body';
import { canonicalOperation, type CanonicalRequest } from './canonical-operation';
import { httpRefusal } from './http-answers';
import { splitGatewayUrl } from './http-path';
import { fingerprintHeaders } from './request-headers';
import { UpstreamClient, sendsBody, type UpstreamResponse, type UpstreamTarget } from './upstream.client';

export interface IncomingOperation {
  principal: Principal;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body?: Readable;
  clientIp: string;
  /** Aborts when the agent hangs up: a request held for approval stops waiting. */
  signal?: AbortSignal;
  /** Set when the request is an MCP tool call: the trail records protocol `mcp` and the tool. */
  tool?: McpToolName;
}

export interface Forwarded {
  kind: 'forwarded';
  requestId: string;
  upstream: UpstreamResponse;
  /** Call once the response has been written (or aborted) to record the outcome. */
  done(outcome: { bytesOut: number; aborted: boolean }): void;
}

/**
 * A request held for approval that nobody decided on while the agent waited: the agent is told
 * to come back (202). The retry is held again and goes through once the approval service answers
 * `approved` for the same operation.
 */
export interface PendingApproval {
  kind: 'pending';
  requestId: string;
  approvalId: string;
  url?: string;
  expiresAt: string;
  retryAfterSeconds: number;
}

export type Handled = Forwarded | PendingApproval;

/** Where the operation goes upstream, as the approval covers it. */
interface Target {
  connection: string;
  request: CanonicalRequest;
}

/** Methods that only read (RFC 9110 safe methods): allowed outright, audited in one event when they end. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The HTTP adapter of the operation pipeline: route the request, read it as the upstream will,
 * let the pipeline decide and audit, hold it for a person when policy says review, forward it.
 * Every path out of here either forwards (a read audited by its outcome event, anything else
 * with its decision already on the audit stream), answers a held request as still pending (its
 * operation.held event recorded), or throws a GatewayError whose audit events are on their way:
 * nothing that can change anything reaches the upstream unaudited, and nothing is allowed when
 * a dependency does not answer.
 */
@Injectable()
export class HttpGateway {
  private readonly logger = new Logger(HttpGateway.name);
  private readonly heldBudget: HeldBudget;

  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly pipeline: OperationPipeline,
    private readonly upstream: UpstreamClient,
    private readonly leases: LeaseClient,
    private readonly masking: ResponseMasking,
    @Inject(INGRESS_CONFIG) private readonly config: IngressConfig,
  ) {
    this.heldBudget = new HeldBudget(config.APPROVAL_MAX_HELD_REQUESTS, config.APPROVAL_MAX_HELD_BYTES);
  }

  async handle(op: IncomingOperation, sessionId: string): Promise<Handled> {
    const requestId = uuidv7();
    try {
      if (!tracingEnabled()) return await this.intercept(op, sessionId, requestId, undefined);
      return await traceOperation('airlock.http operation', (ids) => this.intercept(op, sessionId, requestId, ids));
    } catch (err) {
      if (err instanceof GatewayError) err.requestId = requestId;
      throw err;
    }
  }

  private async intercept(
    op: IncomingOperation,
    sessionId: string,
    requestId: string,
    trace: TraceIds | undefined,
  ): Promise<Handled> {
    const started = performance.now();
    const parts = splitGatewayUrl(op.url);
    const env: Envelope = {
      sessionId,
      requestId,
      actor: op.principal,
      connection: null,
      protocol: op.tool ? 'mcp' : 'http',
      ...(op.tool ? { tool: op.tool } : {}),
      source: 'ingress-proxy',
      ...trace,
    };
    if (!parts) {
      throw await this.refuse(env, [], 'routing', new GatewayError(404, 'not_found', 'use /c/<connection>/<path>'));
    }
    // Until the request is read, the trail shows what the agent sent.
    const sent: HttpOperation = httpOperation(op.method, parts.path);
    const intercepted: AuditEventDraft = interceptedDraft(env, sent);
    if (!ConnectionNameSchema.safeParse(parts.connection).success) {
      throw await this.refuse(env, [intercepted], 'routing', unknownConnection(parts.connection));
    }
    const name = parts.connection;
    env.connection = name;
    intercepted.connection = name;
    // Connections without a credential come from configuration; the others from the vault. The
    // lease comes first: its credential kind (S3 or not) and declared credential headers decide how
    // the request is read, and policy judges it as read.
    const open = this.connections.get(name);
    let lease: ActiveLease | undefined;
    let unknownToVault: GatewayError | undefined;
    if (!open) {
      try {
        lease = await this.leases.lease(name);
      } catch (err) {
        const { stage, error } = leaseFailure(name, err);
        if (stage !== 'routing') {
          this.logger.warn(
            { requestId, connection: name, err: (err as Error).message },
            'no credential lease: refusing',
          );
          throw await this.refuse(env, [intercepted], stage, error);
        }
        // A name the vault does not know: policy still answers first, so that a name policy keeps
        // from the agent is denied like any other, and only an allowed one is answered 404.
        unknownToVault = error;
      }
    }
    const aws = lease?.secret.kind === 'aws-sigv4';
    const read = canonicalOperation(op.method, parts.path, parts.query, op.headers, {
      settings: this.connections.settings(name),
      agentCredentialHeaders: lease?.agentCredentialHeaders ?? [],
      aws,
      s3: lease?.secret.kind === 'aws-sigv4' && lease.secret.service === 's3',
    });
    if (!read.ok) {
      throw await this.refuse(env, [intercepted], 'routing', new GatewayError(read.status, read.code, read.reason));
    }
    const request = read.request;
    const operation: Operation = {
      env,
      principal: op.principal,
      connection: name,
      operation: request.operation,
      audited: auditedOperation(request.operation),
      // A connection the vault does not know is answered 404 after policy: audited first, as a refusal.
      read: SAFE_METHODS.has(op.method) && !unknownToVault,
    };

    let admitted: Admitted;
    try {
      const decided: Decided | Promise<Decided> = this.pipeline.decide(operation);
      admitted = this.pipeline.admit(operation, decided instanceof Promise ? await decided : decided);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      throw await this.refused(
        operation,
        err.events.length > 0 ? err.events : [interceptedDraft(env, operation.audited)],
        err,
      );
    }
    const { decision, masker, folded } = admitted;
    const unsent = admitted.unsent;

    if (unknownToVault) throw await this.refuse(env, unsent, 'routing', unknownToVault);
    const upstreamUrl = lease?.upstream ?? open?.upstream;
    if (!upstreamUrl) throw new Error(`connection ${name} has no upstream`);

    let body = op.body;
    if (admitted.review) {
      const target: Target = { connection: name, request };
      if (!this.heldBudget.enter()) throw await this.refuse(env, unsent, 'approval', heldCapacityError());
      const kept = { bytes: 0 };
      let held: Awaited<ReturnType<HttpGateway['hold']>>;
      try {
        held = await this.hold(kept, op, operation, target, admitted);
      } finally {
        this.heldBudget.leave(kept.bytes);
      }
      if (held.kind === 'pending') return held;
      body = held.body;

      if (lease) {
        // A person may have taken minutes: the lease read before the hold may have run out since.
        try {
          const fresh = await this.leases.lease(name);
          if (credentialShape(fresh) !== credentialShape(lease)) {
            throw new Error('the connection changed its kind of credential while the request was held');
          }
          lease = fresh;
        } catch (err) {
          const { stage, error } = leaseFailure(name, err);
          throw await this.refuse(env, unsent, stage, error);
        }
      }
    }
    // Whatever the vault injected is scrubbed from every response, which needs it uncompressed.
    const needles: CredentialNeedles | undefined = lease ? this.masking.needles(lease.secret) : undefined;
    const upstreamTarget: UpstreamTarget = {
      upstream: upstreamUrl,
      agentCredentialHeaders: lease?.agentCredentialHeaders ?? [],
      ...(lease ? { credential: lease.secret } : {}),
      identityEncoding: masker !== undefined || lease !== undefined,
    };
    // Fail closed: unless the operation is a read audited by its outcome, its decision is on the
    // audit stream before a byte goes upstream.
    if (unsent.length > 0) {
      try {
        await this.pipeline.auditFirst(env, unsent);
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        throw httpRefusal(err);
      }
    }

    const upstreamStarted = performance.now();
    let upstream: UpstreamResponse;
    try {
      // The canonical request, not the agent's bytes: what policy judged.
      upstream = await this.upstream.forward(upstreamTarget, {
        method: op.method,
        clientIp: op.clientIp,
        // A partial read could cut a secret's recognisable start off, or begin a JSON body mid-document.
        headers: decision.masking.length > 0 ? withoutPartialReads(request.headers) : request.headers,
        body,
        path: request.path,
        query: request.query,
        requestId,
      });
    } catch (err) {
      this.logger.warn({ requestId, connection: name, err: (err as Error).message }, 'upstream request failed');
      const failure = new GatewayError(
        502,
        'upstream_unavailable',
        `the upstream of connection "${name}" did not answer`,
        {
          cause: err,
        },
      );
      this.pipeline.record(httpFailedDraft(env, 'upstream', failure.publicMessage, 502, folded));
      throw failure;
    }
    const upstreamMs = performance.now() - upstreamStarted;

    let counts: () => Record<string, number> | undefined = () => undefined;
    const contentType = headerValue(upstream.headers['content-type']);
    const encoding = headerValue(upstream.headers['content-encoding']);
    // Nothing that policy wants masked or blocked may reach the agent unexamined.
    const refusal = this.masking.blocksBinary(decision.masking, contentType)
      ? new GatewayError(
          403,
          'binary_blocked',
          `policy does not allow binary responses (${contentType}) on connection "${name}"`,
        )
      : (masker || needles) && encoding && encoding !== 'identity'
        ? new GatewayError(
            502,
            'unmaskable_response',
            'the upstream answered with a compressed body that cannot be masked',
          )
        : undefined;
    if (refusal) {
      upstream.body.destroy();
      this.pipeline.record(httpFailedDraft(env, 'masking', refusal.publicMessage, refusal.status, folded));
      throw refusal;
    }
    // Headers first: the body's counts are added to theirs once it has ended.
    const headerCounts: Record<string, number> = {};
    const headers = this.masking.maskHeaders(
      upstream.headers,
      { needles, masker, allowSetCookie: this.config.HTTP_SET_COOKIE_CONNECTIONS.includes(name) },
      headerCounts,
    );
    upstream = { ...upstream, headers };
    if (masker || (needles && !needles.empty)) {
      const masked = this.masking.mask(masker, needles, upstream.body, contentType);
      delete upstream.headers['content-length'];
      upstream = { ...upstream, body: masked.body };
      counts = () => addCounts(masked.counts(), headerCounts);
    } else if (Object.keys(headerCounts).length > 0) {
      counts = () => ({ ...headerCounts });
    }
    return {
      kind: 'forwarded',
      requestId,
      upstream,
      done: ({ bytesOut, aborted }) =>
        this.completed(env, folded, upstream.status, { started, upstreamMs, bytesOut, aborted, counts }),
    };
  }

  /** The outcome event, once the response has been written or aborted. */
  private completed(
    env: Envelope,
    folded: Folded | undefined,
    status: number,
    o: {
      started: number;
      upstreamMs: number;
      bytesOut: number;
      aborted: boolean;
      counts: () => Record<string, number> | undefined;
    },
  ): void {
    if (o.aborted) {
      this.pipeline.record(httpFailedDraft(env, 'upstream', 'response aborted before it was complete', status, folded));
      return;
    }
    const masked = o.counts();
    this.pipeline.record(
      httpCompletedDraft(
        env,
        {
          status,
          durationMs: performance.now() - o.started,
          upstreamMs: o.upstreamMs,
          bytesOut: o.bytesOut,
          ...(masked ? { masked } : {}),
        },
        folded,
      ),
    );
  }

  /**
   * Holds a request policy sent for review until a person decides or the agent's wait runs out.
   * The body is read into memory first: the approval covers exactly those bytes, and they are
   * what goes upstream afterwards. `unsent` (intercepted, decided) is published before the
   * approval is asked for, so the trail shows the decision before the hold. The body's size goes
   * into `kept`, for the caller to give back to the budget of held requests.
   */
  private async hold(
    kept: { bytes: number },
    op: IncomingOperation,
    operation: Operation,
    target: Target,
    admitted: Admitted,
  ): Promise<{ kind: 'approved'; body?: Readable } | PendingApproval> {
    const { env } = operation;
    const limit = this.config.APPROVAL_MAX_BODY_BYTES;
    let body: Buffer | undefined;
    if (op.body && sendsBody(op.method)) {
      try {
        body = await readBodyWithin(op.body, limit, headerValue(op.headers['content-length']));
      } catch (err) {
        const error =
          err instanceof BodyTooLargeError
            ? new GatewayError(
                413,
                'payload_too_large',
                `a request held for approval may carry at most ${limit} bytes of body; this one is larger`,
                { cause: err },
              )
            : new GatewayError(400, 'bad_request', 'the request body could not be read', { cause: err });
        throw await this.refuse(env, admitted.unsent, 'approval', error);
      }
      if (!this.heldBudget.keep(body.length)) {
        throw await this.refuse(env, admitted.unsent, 'approval', heldCapacityError());
      }
      kept.bytes = body.length;
    }

    const { path, query, headers } = target.request;
    const exact = { method: op.method, path, query, headers: fingerprintHeaders(headers), body };
    let outcome: HoldOutcome;
    try {
      outcome = await this.pipeline.hold(operation, admitted, {
        fingerprint: httpOperationFingerprint(exact),
        detail: httpApprovalDetail(exact),
        deadline: (_first, now) => now + this.config.APPROVAL_HTTP_WAIT_MS,
        signal: op.signal,
        // The approval stays pending for the agent's retry.
        withdraw: false,
      });
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      throw await this.refused(operation, err.events, err);
    }
    if (outcome.kind === 'approved') {
      return { kind: 'approved', body: body === undefined ? op.body : Readable.from([body], { objectMode: false }) };
    }
    if (!outcome.reply) {
      // The agent hung up before the approval was asked for: nothing to come back to.
      throw await this.refuse(
        env,
        [],
        'approval',
        new GatewayError(499, 'client_closed', 'the agent closed the request'),
      );
    }
    // The operation.held event ends the trail of a request answered 202 (or whose agent hung up):
    // its retry is an operation of its own. The approval stays pending for that retry.
    return {
      kind: 'pending',
      requestId: env.requestId,
      approvalId: outcome.reply.approvalId,
      url: outcome.reply.url,
      expiresAt: outcome.reply.expiresAt,
      retryAfterSeconds: this.config.APPROVAL_RETRY_AFTER_S,
    };
  }

  /** Records a refusal (what was already known, then the failure) and returns the error to throw. */
  private async refuse(
    env: Envelope,
    before: AuditEventDraft[],
    stage: FailureStage,
    error: GatewayError,
  ): Promise<GatewayError> {
    await this.pipeline.recordRefusal(env, before, httpFailedDraft(env, stage, error.publicMessage, error.status));
    return error;
  }

  /**
   * Records a refusal of the pipeline and returns the error to throw. A denial is answered 403 only
   * once it is on the stream (otherwise 503, like anything else the trail cannot take).
   */
  private async refused(operation: Operation, events: AuditEventDraft[], refusal: Refusal): Promise<GatewayError> {
    const error = httpRefusal(refusal);
    if (!refusal.recorded) return this.refuse(operation.env, events, refusal.stage, error);
    await this.emitOrFail(...events);
    return error;
  }

  private async emitOrFail(...drafts: AuditEventDraft[]): Promise<void> {
    try {
      await this.pipeline.auditFirst(drafts[0], drafts);
    } catch (err) {
      throw err instanceof Refusal ? httpRefusal(err) : err;
    }
  }
}

function heldCapacityError(): GatewayError {
  return new GatewayError(
    503,
    'approval_capacity',
    'too many requests are waiting for approval on this gateway; request refused, retry later',
  );
}

function truncate(s: string): string {
  return s.length > 63 ? `${truncateText(s, 63)}…` : s;
}

function unknownConnection(name: string): GatewayError {
  return new GatewayError(404, 'unknown_connection', `no connection named "${truncate(name)}"`);
}

/** What a failed lease means for the agent: unknown connection, or the vault unavailable (fail closed). */
function leaseFailure(name: string, err: unknown): { stage: FailureStage; error: GatewayError } {
  if (err instanceof MessagingError && err.failure === 'remote' && /unknown connection/.test(err.message)) {
    return { stage: 'routing', error: unknownConnection(name) };
  }
  const message =
    err instanceof MessagingError && err.failure === 'timeout'
      ? 'the credential vault did not answer in time; request refused'
      : `no credential is available for connection "${name}"; request refused`;
  return { stage: 'vault', error: new GatewayError(503, 'credential_unavailable', message, { cause: err }) };
}

/** What decides how a request is read: the kind of credential, and the AWS service. */
function credentialShape(lease: ActiveLease): string {
  return lease.secret.kind === 'aws-sigv4' ? `aws-sigv4:${lease.secret.service}` : lease.secret.kind;
}

/** The agent's headers without the ones that ask for part of a resource. */
function withoutPartialReads(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  if (headers.range === undefined && headers['if-range'] === undefined) return headers;
  const rest = { ...headers };
  delete rest.range;
  delete rest['if-range'];
  return rest;
}

function addCounts(a: Record<string, number>, b: Readonly<Record<string, number>>): Record<string, number> {
  for (const [rule, n] of Object.entries(b)) a[rule] = (a[rule] ?? 0) + n;
  return a;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
