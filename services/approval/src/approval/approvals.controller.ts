import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import { IdSchema, type ApprovalView, type Principal } from '@airlock/contracts';
import { JwtAuthGuard } from '@airlock/identity';
import { parseInput } from '../errors';
import { Approver } from './approver.guard';
import { ApproverService } from './approver.service';
import { DecisionBodySchema, ListQuerySchema } from './dto/approval.dto';

/**
 * The approvers' API. Every route needs an approver's token; a signed link alone decides
 * nothing. Whether the caller may see or decide an approval depends on its approver groups.
 */
@Controller('approvals')
@UseGuards(JwtAuthGuard)
export class ApprovalsController {
  constructor(private readonly approvers: ApproverService) {}

  @Get()
  async list(@Query() query: unknown, @Approver() caller: Principal): Promise<{ approvals: ApprovalView[] }> {
    return { approvals: await this.approvers.list(caller, parseInput(ListQuerySchema, query).state) };
  }

  @Get(':id')
  show(@Param('id') id: string, @Approver() caller: Principal): Promise<ApprovalView> {
    return this.approvers.show(caller, parseInput(IdSchema, id, 'id'));
  }

  @Post(':id/approve')
  @HttpCode(200)
  approve(@Param('id') id: string, @Body() body: unknown, @Approver() caller: Principal): Promise<ApprovalView> {
    const input = parseInput(DecisionBodySchema, body);
    return this.approvers.decide(caller, parseInput(IdSchema, id, 'id'), 'approve', input, 'api');
  }

  @Post(':id/deny')
  @HttpCode(200)
  deny(@Param('id') id: string, @Body() body: unknown, @Approver() caller: Principal): Promise<ApprovalView> {
    const input = parseInput(DecisionBodySchema, body);
    return this.approvers.decide(caller, parseInput(IdSchema, id, 'id'), 'deny', input, 'api');
  }

  /** A wildcard rather than `:token`: a signed link is longer than the router allows a path parameter to be. */
  @Post('links/*')
  @HttpCode(200)
  link(@Param('*') token: string, @Body() body: unknown, @Approver() caller: Principal): Promise<ApprovalView> {
    return this.approvers.decideByLink(caller, token, parseInput(DecisionBodySchema, body));
  }
}
