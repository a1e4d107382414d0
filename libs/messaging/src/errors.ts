/** Everything that can go wrong on a Kafka call. None of these may ever be read as an allow. */
export type MessagingFailure = 'timeout' | 'broker' | 'remote' | 'contract' | 'closed' | 'signature';

export class MessagingError extends Error {
  constructor(
    readonly failure: MessagingFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MessagingError';
  }
}
