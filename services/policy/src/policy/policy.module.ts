import { Module, type OnModuleInit } from '@nestjs/common';
import { PolicyController } from './policy.controller';
import { PolicyHandler } from './policy.handler';
import { PolicyService } from './policy.service';
import { PolicyChangePublisher } from './policy-change.publisher';

@Module({
  controllers: [PolicyController, PolicyHandler],
  providers: [PolicyService, PolicyChangePublisher],
})
export class PolicyModule implements OnModuleInit {
  constructor(private readonly policy: PolicyService) {}

  async onModuleInit(): Promise<void> {
    await this.policy.load();
  }
}
