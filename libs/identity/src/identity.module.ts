import { Module, type DynamicModule } from '@nestjs/common';
import type { IdentityConfig } from './identity-config';
import { TOKEN_VERIFIER } from './identity.constants';
import { JwtAuthGuard } from './jwt-auth.guard';
import { AirlockJwtStrategy } from './jwt.strategy';
import { TokenVerifier } from './token-verifier';

@Module({})
export class IdentityModule {
  /** The configuration is validated when the verifier is built, so a bad setting stops boot. */
  static forRoot(config: IdentityConfig): DynamicModule {
    return {
      module: IdentityModule,
      providers: [
        { provide: TOKEN_VERIFIER, useFactory: (): TokenVerifier => new TokenVerifier(config) },
        AirlockJwtStrategy,
        JwtAuthGuard,
      ],
      exports: [TOKEN_VERIFIER, AirlockJwtStrategy, JwtAuthGuard],
    };
  }
}
