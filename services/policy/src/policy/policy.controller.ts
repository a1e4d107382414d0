import { Controller, Get, HttpCode, Post } from '@nestjs/common';
import { PolicyService } from './policy.service';

/** Admin API of the policy service (loopback or a protected network only). */
@Controller('policy')
export class PolicyController {
  constructor(private readonly policy: PolicyService) {}

  @Get()
  current(): { id: string; version: string; rules: number } {
    return this.policy.summary;
  }

  @Post('reload')
  @HttpCode(200)
  reload(): Promise<{ id: string; version: string; rules: number; changed: boolean }> {
    return this.policy.reload();
  }
}
