import { Controller, Get, HttpCode, Post, UnprocessableEntityException } from '@nestjs/common';
import { PolicyDocumentError } from './policy-document';
import { PolicyService } from './policy.service';

type PolicySummary = { id: string; version: string; rules: number };

/** Admin API of the policy service (loopback or a protected network only). */
@Controller('policy')
export class PolicyController {
  constructor(private readonly policy: PolicyService) {}

  @Get()
  current(): PolicySummary {
    return this.policy.summary;
  }

  /** A file that cannot be used is answered 422 with every problem named; the policy in force stays. */
  @Post('reload')
  @HttpCode(200)
  async reload(): Promise<PolicySummary & { changed: boolean }> {
    try {
      return await this.policy.reload();
    } catch (err) {
      if (!(err instanceof PolicyDocumentError)) throw err;
      throw new UnprocessableEntityException({
        error: 'invalid_policy',
        message: `${err.message}; the policy in force is unchanged`,
        policy: this.policy.summary,
      });
    }
  }
}
