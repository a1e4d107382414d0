import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { IncomingHttpHeaders } from 'node:http';
import { Strategy } from 'passport-jwt';
import type { Principal } from '@airlock/contracts';
import { bearerToken } from './bearer';
import { AIRLOCK_JWT_STRATEGY, TOKEN_VERIFIER } from './identity.constants';
import { TokenRejectedError } from './token-rejected.error';
import { TokenVerifier } from './token-verifier';

type BearerRequest = { headers: IncomingHttpHeaders };

/**
 * passport-jwt supplies the strategy shape and the bearer extractor; verification is done by
 * the shared `TokenVerifier` instead of passport-jwt's jsonwebtoken, so there is a single
 * implementation of the multi-issuer rules.
 */
@Injectable()
export class AirlockJwtStrategy extends PassportStrategy(Strategy, AIRLOCK_JWT_STRATEGY) {
  constructor(@Inject(TOKEN_VERIFIER) private readonly verifier: TokenVerifier) {
    super({
      jwtFromRequest: (req: BearerRequest) => bearerToken(req.headers),
      // Required by passport-jwt's constructor, never reached because authenticate() is overridden.
      secretOrKeyProvider: (_request: unknown, _token: unknown, done: (error: Error) => void) =>
        done(new Error('airlock-jwt verifies through TokenVerifier')),
    });
  }

  override authenticate(request: BearerRequest): void {
    const token = bearerToken(request.headers);
    if (token === null || token === '') {
      this.fail(new TokenRejectedError('missing'), 401);
      return;
    }
    this.verifier.verify(token).then(
      (principal) => this.success(principal),
      (error: unknown) => {
        if (error instanceof TokenRejectedError) {
          this.fail(error, 401);
        } else {
          this.error(error instanceof Error ? error : new Error(String(error)));
        }
      },
    );
  }

  /** Passport's verify callback; unused because authenticate() calls success() itself. */
  validate(principal: Principal): Principal {
    return principal;
  }
}
