import { HttpException, HttpStatus, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AIRLOCK_JWT_STRATEGY } from './identity.constants';
import { TokenRejectedError } from './token-rejected.error';

/** JSON body of an authentication failure. */
export interface TokenRejectionBody {
  statusCode: number;
  error: string;
  code: TokenRejectedError['code'];
  message: string;
}

/**
 * The HTTP answer to a refused token: 401 with the rejection code and its public message,
 * except 503 when the issuer's keys could not be fetched (the caller is not at fault, and
 * the request still fails closed). The cause stays on the exception for logging only.
 */
export function tokenRejectionToHttpException(rejection: TokenRejectedError): HttpException {
  const status = rejection.code === 'jwks_unavailable' ? HttpStatus.SERVICE_UNAVAILABLE : HttpStatus.UNAUTHORIZED;
  const body: TokenRejectionBody = {
    statusCode: status,
    error: status === HttpStatus.UNAUTHORIZED ? 'Unauthorized' : 'Service Unavailable',
    code: rejection.code,
    message: rejection.message,
  };
  return new HttpException(body, status, { cause: rejection });
}

/** Requires a valid bearer token; sets `request.user` to the caller's `Principal`. */
@Injectable()
export class JwtAuthGuard extends AuthGuard(AIRLOCK_JWT_STRATEGY) {
  override handleRequest<TUser>(error: unknown, user: unknown, info: unknown): TUser {
    if (error !== null && error !== undefined) {
      throw error instanceof TokenRejectedError ? tokenRejectionToHttpException(error) : error;
    }
    if (user) {
      return user as TUser;
    }
    const rejection = info instanceof TokenRejectedError ? info : new TokenRejectedError('missing');
    throw tokenRejectionToHttpException(rejection);
  }
}
