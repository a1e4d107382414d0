/**
 * A peer sent bytes that are not a valid PostgreSQL protocol message, or a value cannot be put on
 * the wire. `sqlstate` is what the proxy reports to the client in the `ErrorResponse` it sends
 * before closing; the default 08P01 is PostgreSQL's own `protocol_violation`.
 */
export class PgProtocolError extends Error {
  override readonly name = 'PgProtocolError';

  constructor(
    message: string,
    readonly sqlstate: string = '08P01',
  ) {
    super(message);
  }
}
