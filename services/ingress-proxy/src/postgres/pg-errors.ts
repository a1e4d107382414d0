import type { FailureStage } from '../errors';
import type { Refusal, RefusalKind } from '../operation/refusal';

/** SQLSTATE codes the gateway answers with itself. */
export const SqlState = {
  InsufficientPrivilege: '42501',
  InvalidPassword: '28P01',
  InvalidAuthorization: '28000',
  InvalidCatalogName: '3D000',
  ProtocolViolation: '08P01',
  FeatureNotSupported: '0A000',
  ConnectionFailure: '08006',
  CannotConnectNow: '57P03',
  AdminShutdown: '57P01',
  QueryCanceled: '57014',
  SyntaxError: '42601',
  TooManyConnections: '53300',
  InFailedTransaction: '25P02',
  ServiceUnavailable: '08001',
  InternalError: 'XX000',
  InvalidStatementName: '26000',
  InvalidCursorName: '34000',
  ProgramLimitExceeded: '54000',
  InvalidParameterValue: '22023',
  /** The class of warnings: notices the gateway sends itself. */
  Warning: '01000',
  /** The gateway's own: a tool call's statement still waits for a person (never sent to a wire client). */
  HeldForApproval: 'AL001',
} as const;

/**
 * A refusal or failure the gateway answers itself on the PostgreSQL path, as an ErrorResponse.
 * `publicMessage` is what the client sees; `cause` is for the logs only.
 */
export class PgGatewayError extends Error {
  constructor(
    readonly sqlstate: string,
    readonly publicMessage: string,
    readonly stage: FailureStage,
    options?: { cause?: unknown; hint?: string; fatal?: boolean },
  ) {
    super(publicMessage, options);
    this.name = 'PgGatewayError';
    this.hint = options?.hint;
    this.fatal = options?.fatal ?? false;
  }

  readonly hint?: string;
  /** Fatal errors end the session (severity FATAL); others leave it usable. */
  readonly fatal: boolean;
}

/** The SQLSTATE of each kind of pipeline refusal. */
const REFUSALS: Record<RefusalKind, string> = {
  denied: SqlState.InsufficientPrivilege,
  not_approved: SqlState.InsufficientPrivilege,
  policy_unavailable: SqlState.CannotConnectNow,
  audit_unavailable: SqlState.CannotConnectNow,
  masking_unavailable: SqlState.InternalError,
  approval_unavailable: SqlState.CannotConnectNow,
};

/** A refusal of the operation pipeline as a statement's ErrorResponse. */
export function pgRefusal(refusal: Refusal): PgGatewayError {
  const message =
    refusal.kind === 'denied'
      ? `refused by policy: ${refusal.reason}`
      : refusal.kind === 'not_approved'
        ? `refused: ${refusal.reason}`
        : `${refusal.reason}; statement refused`;
  return new PgGatewayError(REFUSALS[refusal.kind], message, refusal.stage, { cause: refusal.cause ?? refusal });
}
