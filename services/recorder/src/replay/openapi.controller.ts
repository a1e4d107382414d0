import { Controller, Get } from '@nestjs/common';
import { openApiDocument } from './openapi';

/** The audit API's description; public, like any API description: it holds no audit data. */
@Controller('audit')
export class OpenApiController {
  private readonly document = openApiDocument();

  @Get('openapi.json')
  openApi(): Record<string, unknown> {
    return this.document;
  }
}
