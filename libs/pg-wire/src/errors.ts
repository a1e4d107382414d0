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

/** A message announcing more bytes than the reader accepts; refused from its header, before its body is read. */
export class MessageTooLargeError extends PgProtocolError {
  constructor(
    message: string,
    readonly type: number,
    /** The announced int32 length (which counts itself). */
    readonly length: number,
    readonly limit: number,
  ) {
    super(message, '08P01');
  }
}
