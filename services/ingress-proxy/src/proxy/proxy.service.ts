import { Injectable, Logger } from '@nestjs/common';
import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import {
  uuidv7,
  type AuditEventDraft,
  type HttpOperation,
  type Principal,
  type PolicyDecision,
} from '@airlock/contracts';
import { MessagingError } from '@airlock/messaging';
import { AuditService } from '../audit/audit.service';
import { ConnectionRegistry } from '../connections/connection.registry';
import { GatewayError } from '../errors';
import { PolicyClient } from '../policy-client/policy-client.service';
import { ambiguousPathReason, splitGatewayUrl } from './http-path';
import { UpstreamClient, type UpstreamResponse } from './upstream.client';

export interface IncomingOperation {
  principal: Principal;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body?: Readable;
  clientIp: string;
}

export interface Forwarded {
  requestId: string;
  upstream: UpstreamResponse;
  /** Call once the response has been written (or aborted) to record the outcome. */
  done(outcome: { bytesOut: number; aborted: boolean }): void;
}

type Envelope = Omit<AuditEventDraft, 'type' | 'data'>;

/**
 * One intercepted HTTP operation: route it, ask policy, audit the decision, forward it. Every
 * path out of here either forwards with the decision already on the audit stream or throws a
 * GatewayError whose audit events are already on their way: nothing reaches the upstream
 * unaudited, and nothing is allowed when a dependency does not answer.
 */
@Injectable()
export class ProxyService {
  private readonly logger = new Logger(ProxyService.name);

  constructor(
    private readonly connections: ConnectionRegistry,
    private readonly policy: PolicyClient,
    private readonly audit: AuditService,
    private readonly upstream: UpstreamClient,
  ) {}

  async handle(op: IncomingOperation, sessionId: string): Promise<Forwarded> {
    const requestId = uuidv7();
    try {
      return await this.intercept(op, sessionId, requestId);
    } catch (err) {
      if (err instanceof GatewayError) err.requestId = requestId;
      throw err;
    }
  }

  private async intercept(op: IncomingOperation, sessionId: string, requestId: string): Promise<Forwarded> {
    const started = performance.now();
    const parts = splitGatewayUrl(op.url);
    const env: Envelope = {
      sessionId,
      requestId,
      actor: op.principal,
      connection: null,
      protocol: 'http',
      source: 'ingress-proxy',
    };
    if (!parts) {
      throw await this.refuse(
        env,
        undefined,
        'routing',
        new GatewayError(404, 'not_found', 'use /c/<connection>/<path>'),
      );
    }
    const connection = this.connections.get(parts.connection);
    const operation: HttpOperation = { kind: 'http', method: op.method, path: safePath(parts.path) };
    if (!connection) {
      throw await this.refuse(
        env,
        operation,
        'routing',
        new GatewayError(404, 'unknown_connection', `no connection named "${truncate(parts.connection)}"`),
      );
    }
    env.connection = connection.name;
    const ambiguous = ambiguousPathReason(parts.path);
    if (ambiguous) {
      throw await this.refuse(env, operation, 'routing', new GatewayError(400, 'bad_path', `refused: ${ambiguous}`));
    }

    let decision: PolicyDecision;
    let cached: boolean;
    try {
      ({ decision, cached } = await this.policy.evaluate({
        requestId,
        sessionId,
        principal: op.principal,
        connection: connection.name,
        protocol: 'http',
        operation,
      }));
    } catch (err) {
      const timeout = err instanceof MessagingError && err.failure === 'timeout';
      this.logger.warn({ requestId, err: (err as Error).message }, 'policy did not answer: refusing');
      throw await this.refuse(
        env,
        operation,
        'policy',
        new GatewayError(
          503,
          'policy_unavailable',
          timeout
            ? 'the policy service did not answer in time; request refused'
            : 'the policy service is unavailable; request refused',
          { cause: err },
        ),
      );
    }

    const intercepted: AuditEventDraft = { ...env, type: 'operation.intercepted', data: { operation } };
    const decided: AuditEventDraft = {
      ...env,
      type: 'operation.decided',
      data: {
        decision: decision.decision,
        reason: decision.reason,
        ruleId: decision.ruleId,
        policyVersion: decision.policyVersion,
        masking: decision.masking,
        cached,
      },
    };
    if (decision.decision !== 'allow') {
      // `review` needs the approval workflow; until a person can approve, it is refused like a deny.
      const reason =
        decision.decision === 'review'
          ? `approval required (${decision.reason}); approvals are not enabled on this gateway`
          : decision.reason;
      const denied: AuditEventDraft = {
        ...env,
        type: 'operation.denied',
        data: { reason, ruleId: decision.ruleId, policyVersion: decision.policyVersion },
      };
      await this.emitOrFail(intercepted, decided, denied);
      throw new GatewayError(403, 'denied', reason);
    }
    // Fail closed: the decision is on the audit stream before a byte goes upstream.
    await this.emitOrFail(intercepted, decided);

    const upstreamStarted = performance.now();
    let upstream: UpstreamResponse;
    try {
      upstream = await this.upstream.forward(connection, { ...op, path: parts.path, query: parts.query, requestId });
    } catch (err) {
      this.logger.warn(
        { requestId, connection: connection.name, err: (err as Error).message },
        'upstream request failed',
      );
      const failure = new GatewayError(
        502,
        'upstream_unavailable',
        `the upstream of connection "${connection.name}" did not answer`,
        { cause: err },
      );
      this.audit.emitAfter({
        ...env,
        type: 'operation.failed',
        data: { stage: 'upstream', reason: failure.publicMessage, status: 502 },
      });
      throw failure;
    }
    const upstreamMs = performance.now() - upstreamStarted;
    return {
      requestId,
      upstream,
      done: ({ bytesOut, aborted }) => {
        const durationMs = performance.now() - started;
        if (aborted) {
          this.audit.emitAfter({
            ...env,
            type: 'operation.failed',
            data: { stage: 'upstream', reason: 'response aborted before it was complete', status: upstream.status },
          });
        } else {
          this.audit.emitAfter({
            ...env,
            type: 'operation.completed',
            data: { status: upstream.status, durationMs, upstreamMs, bytesOut },
          });
        }
      },
    };
  }

  /** Records a refusal (intercepted + failed) and returns the error to throw. */
  private async refuse(
    env: Envelope,
    operation: HttpOperation | undefined,
    stage: 'routing' | 'policy',
    error: GatewayError,
  ): Promise<GatewayError> {
    const drafts: AuditEventDraft[] = [];
    if (operation) drafts.push({ ...env, type: 'operation.intercepted', data: { operation } });
    drafts.push({
      ...env,
      type: 'operation.failed',
      data: { stage, reason: error.publicMessage, status: error.status },
    });
    try {
      await this.audit.emit(...drafts);
    } catch (err) {
      this.logger.error(
        { requestId: env.requestId, err: (err as Error).message },
        'audit events of a refusal could not be published',
      );
    }
    return error;
  }

  private async emitOrFail(...drafts: AuditEventDraft[]): Promise<void> {
    try {
      await this.audit.emit(...drafts);
    } catch (err) {
      this.logger.error({ requestId: drafts[0].requestId, err: (err as Error).message }, 'audit unavailable: refusing');
      throw new GatewayError(503, 'audit_unavailable', 'the audit trail is unavailable; request refused', {
        cause: err,
      });
    }
  }
}

function truncate(s: string): string {
  return s.length > 63 ? `${s.slice(0, 63)}…` : s;
}

/** The audit contract wants a path starting with "/" and of bounded size. */
function safePath(path: string): string {
  return path.length > 8192 ? path.slice(0, 8192) : path;
}
