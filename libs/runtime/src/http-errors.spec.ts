import { BadRequestException, HttpException, PayloadTooLargeException } from '@nestjs/common';
import { AuditEventSchema } from '@airlock/contracts';
import { SignedRpcError } from '@airlock/messaging';
import { MessageSigner, TrustedKeys, generateSigningKeyPair } from '@airlock/sealing';
import {
  NotFoundError,
  causeText,
  errorCodeOf,
  isHealthReport,
  publicMessageOf,
  refusedCallEvent,
  rpcErrorBody,
} from './http-errors';

describe('HTTP error helpers', () => {
  it('gives every status a stable code', () => {
    expect(errorCodeOf(404)).toBe('not_found');
    expect(errorCodeOf(413)).toBe('payload_too_large');
    expect(errorCodeOf(418)).toBe('bad_request');
    expect(errorCodeOf(502)).toBe('internal');
  });

  it("passes on the short texts of Nest's own errors, never anything at 500 and above", () => {
    expect(publicMessageOf(new PayloadTooLargeException(), 413)).toBe('Payload Too Large');
    expect(publicMessageOf(new BadRequestException(['a is missing', 'b is wrong']), 400)).toBe(
      'a is missing; b is wrong',
    );
    expect(publicMessageOf(new HttpException('pool exhausted at 10.0.0.7', 500), 500)).toBe('internal error');
  });

  it('recognises the health report', () => {
    expect(isHealthReport({ service: 'recorder', status: 'unavailable', checks: {} })).toBe(true);
    expect(isHealthReport({ statusCode: 503, message: 'x' })).toBe(false);
    expect(isHealthReport('checks')).toBe(false);
  });

  it('keeps only the message and stack of an error', () => {
    const err = Object.assign(new Error('query failed'), { parameters: ['hunter2'] });
    expect(causeText(err)).toContain('query failed');
    expect(causeText(err)).not.toContain('hunter2');
    expect(causeText('plain')).toBe('plain');
  });

  it('makes a valid auth.failed event of a refused call, without its query string', () => {
    const event = refusedCallEvent(
      { method: 'GET', url: `/audit/sessions/${'x'.repeat(3000)}?token=abc` },
      null,
      'missing',
      'A bearer token is required.',
      'recorder',
    );
    expect(event.data.path).toHaveLength(2048);
    expect(JSON.stringify(event)).not.toContain('token=abc');
    const full = {
      ...event,
      id: '019abcde-0000-7000-8000-00000000000a',
      schemaVersion: 1,
      time: new Date().toISOString(),
    };
    expect(AuditEventSchema.safeParse(full).success).toBe(true);
  });

  it("signs the error reply of a signed refusal with the service's public message, for its exchange", () => {
    const keys = generateSigningKeyPair();
    const signer = MessageSigner.fromPem('credential-vault', keys.privateKeyPem);
    const trust = TrustedKeys.fromJson(
      JSON.stringify({ keys: [{ signer: 'credential-vault', publicKey: keys.publicKeyPem }] }),
    );
    const context = { topic: 'airlock.vault.lease.reply', correlationId: 'c1' };
    const refusal = new SignedRpcError(new NotFoundError('unknown connection "x"'), (b) => signer.sign(context, b));
    const logger = { warn: () => undefined, error: () => undefined };
    const body = rpcErrorBody(refusal, logger);
    expect(body).toMatchObject({ status: 'error', message: 'unknown connection "x"' });
    expect(trust.verify(context, body, ['credential-vault'])).toMatchObject({ signer: 'credential-vault' });
    // Without the signature the caller could not tell it from a forgery.
    expect(rpcErrorBody(new NotFoundError('unknown connection "x"'), logger)).not.toHaveProperty('signature');
  });
});
