import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Post,
  UnprocessableEntityException,
  UseGuards,
} from '@nestjs/common';
import {
  DryRunBodySchema,
  InvalidBodyError,
  ValidateBodySchema,
  parseBody,
  type DryRunView,
  type ValidateView,
} from './dto/admin.dto';
import { openApiDocument } from './openapi';
import { PolicyAdminGuard } from './policy-admin.guard';
import { PolicyDocumentError, type PolicyDocument } from './policy-document';
import { PolicyService } from './policy.service';

type PolicySummary = { id: string; version: string; rules: number };

/**
 * Admin API of the policy service. `GET /policy` and `POST /policy/reload` are for the loopback
 * or a protected network; the routes that show the rules or try them out need a policy admin's
 * token (PolicyAdminGuard).
 */
@Controller('policy')
export class PolicyController {
  constructor(private readonly policy: PolicyService) {}

  @Get()
  current(): PolicySummary {
    return this.policy.summary;
  }

  /** This API's description; public, like any API description. */
  @Get('openapi.json')
  openApi(): Record<string, unknown> {
    return openApiDocument();
  }

  @Get('document')
  @UseGuards(PolicyAdminGuard)
  document(): PolicyDocument {
    return this.policy.document;
  }

  /** Checks a document and says what is wrong with it, in words; nothing is applied. */
  @Post('validate')
  @HttpCode(200)
  @UseGuards(PolicyAdminGuard)
  validate(@Body() body: unknown): ValidateView {
    return this.policy.validate(input(ValidateBodySchema, body).document);
  }

  /** What the policy in force would decide, by the same evaluation as live requests. */
  @Post('dry-run')
  @HttpCode(200)
  @UseGuards(PolicyAdminGuard)
  dryRun(@Body() body: unknown): DryRunView {
    return this.policy.dryRun(input(DryRunBodySchema, body));
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

function input<S extends Parameters<typeof parseBody>[0]>(schema: S, body: unknown): ReturnType<typeof parseBody<S>> {
  try {
    return parseBody(schema, body);
  } catch (err) {
    if (err instanceof InvalidBodyError) {
      throw new BadRequestException({ statusCode: 400, error: 'bad_request', message: err.message });
    }
    throw err;
  }
}
