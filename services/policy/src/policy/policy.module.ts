import { Module, type OnModuleInit } from '@nestjs/common';
import { TokenVerifier, identityConfigFromSettings } from '@airlock/identity';
import { loadSqlParser } from '@airlock/sql';
import { POLICY_CONFIG, type PolicyConfig } from '../config';
import { PolicyAdminGuard, POLICY_TOKEN_VERIFIER } from './policy-admin.guard';
import { PolicyController } from './policy.controller';
import { PolicyHandler } from './policy.handler';
import { PolicyService } from './policy.service';
import { PolicyChangePublisher } from './policy-change.publisher';

@Module({
  controllers: [PolicyController, PolicyHandler],
  providers: [
    PolicyService,
    PolicyChangePublisher,
    PolicyAdminGuard,
    {
      provide: POLICY_TOKEN_VERIFIER,
      inject: [POLICY_CONFIG],
      useFactory: (c: PolicyConfig): TokenVerifier | null =>
        c.OIDC_ISSUERS === undefined || c.OIDC_AUDIENCE === undefined
          ? null
          : new TokenVerifier(
              identityConfigFromSettings({
                OIDC_ISSUERS: c.OIDC_ISSUERS,
                OIDC_AUDIENCE: c.OIDC_AUDIENCE,
                OIDC_ALGORITHMS: c.OIDC_ALGORITHMS,
                OIDC_CLOCK_SKEW_SECONDS: c.OIDC_CLOCK_SKEW_SECONDS ?? 30,
                ALLOW_INSECURE_JWKS: c.ALLOW_INSECURE_JWKS ?? false,
              }),
            ),
    },
  ],
})
export class PolicyModule implements OnModuleInit {
  constructor(private readonly policy: PolicyService) {}

  async onModuleInit(): Promise<void> {
    // Dry runs classify SQL with the PostgreSQL parser, as the ingress does.
    await loadSqlParser();
    await this.policy.load();
  }
}
