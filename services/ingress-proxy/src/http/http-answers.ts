import type { ServerResponse } from 'node:http';
import type { TokenRejectedError } from '@airlock/identity';
import { GatewayError } from '../errors';
import type { Refusal, RefusalKind } from '../operation/refusal';

/** The HTTP answer to each kind of pipeline refusal: status and stable error code. */
const REFUSALS: Record<RefusalKind, { status: number; code: string }> = {
  denied: { status: 403, code: 'denied' },
  not_approved: { status: 403, code: 'denied' },
  policy_unavailable: { status: 503, code: 'policy_unavailable' },
  audit_unavailable: { status: 503, code: 'audit_unavailable' },
  masking_unavailable: { status: 500, code: 'masking_unavailable' },
  approval_unavailable: { status: 503, code: 'approval_unavailable' },
};

/** A refusal of the operation pipeline as the agent gets it over HTTP. */
export function httpRefusal(refusal: Refusal): GatewayError {
  const { status, code } = REFUSALS[refusal.kind];
  const message =
    refusal.kind === 'denied' || refusal.kind === 'not_approved'
      ? refusal.reason
      : `${refusal.reason}; request refused`;
  return new GatewayError(status, code, message, { cause: refusal.cause ?? refusal });
}

/** JSON body of every error the data path answers itself. */
export interface ErrorBody {
  error: string;
  message: string;
  requestId?: string;
}

/** A refused token: 401, or 503 when the issuer's keys could not be fetched (fail closed, not the caller's fault). */
export function tokenRefusal(rejection: TokenRejectedError, requestId: string): { status: number; body: ErrorBody } {
  const unavailable = rejection.code === 'jwks_unavailable';
  return {
    status: unavailable ? 503 : 401,
    body: { error: unavailable ? 'identity_unavailable' : 'unauthorized', message: rejection.message, requestId },
  };
}

/** The one place where the data path's errors become HTTP answers; internals never reach the agent. */
export function errorAnswer(err: unknown): { status: number; body: ErrorBody } | undefined {
  if (err instanceof GatewayError) {
    return { status: err.status, body: { error: err.code, message: err.publicMessage, requestId: err.requestId } };
  }
  return undefined;
}

/** Writes a JSON error answer on the raw response, or drops the connection when headers are out already. */
export function writeError(res: ServerResponse, status: number, body: ErrorBody, extra?: Record<string, string>): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const json = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(json),
    ...extra,
  });
  res.end(json);
}
