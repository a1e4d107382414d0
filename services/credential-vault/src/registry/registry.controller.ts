import { Body, Controller, Get, HttpCode, Param, Post, Put, UseGuards } from '@nestjs/common';
import { ConnectionNameSchema, type ConnectionView, type Principal } from '@airlock/contracts';
import { JwtAuthGuard } from '@airlock/identity';
import { parseInput } from '../errors';
import { Admin, AdminGuard } from './admin.guard';
import { CreateConnectionSchema } from './dto/connection.dto';
import { RegistryService, type SecretVersionView } from './registry.service';

/**
 * The vault's admin API. Secrets are write-only: no route returns secret material, in any form.
 * Bodies are never logged.
 */
@Controller('connections')
@UseGuards(JwtAuthGuard, AdminGuard)
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Post()
  @HttpCode(201)
  create(@Body() body: unknown, @Admin() admin: Principal): Promise<ConnectionView> {
    return this.registry.create(parseInput(CreateConnectionSchema, body), admin);
  }

  @Get()
  async list(): Promise<{ connections: ConnectionView[] }> {
    return { connections: await this.registry.list() };
  }

  @Get(':name')
  get(@Param('name') name: string): Promise<ConnectionView> {
    return this.registry.get(parseInput(ConnectionNameSchema, name, 'name'));
  }

  /** The body holds the fields of the connection's credential kind; they are checked against it. */
  @Put(':name/secret')
  @HttpCode(200)
  setSecret(@Param('name') name: string, @Body() body: unknown, @Admin() admin: Principal): Promise<SecretVersionView> {
    return this.registry.setSecret(parseInput(ConnectionNameSchema, name, 'name'), body, admin);
  }
}
