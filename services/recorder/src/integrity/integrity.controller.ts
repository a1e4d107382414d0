import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { JwtAuthGuard } from '@airlock/identity';
import { AuditorGuard } from '../auth/auditor.guard';
import { InvalidInputError } from '../errors';
import { IntegrityService } from './integrity.service';
import type { VerifyReport } from './verify';

const VerifyQuerySchema = z.object({ chain: z.coerce.number().int().min(0).max(100_000).optional() }).strict();

/** Verification of the hash chains, for auditors. */
@Controller('audit')
@UseGuards(JwtAuthGuard, AuditorGuard)
export class IntegrityController {
  constructor(private readonly integrity: IntegrityService) {}

  @Get('verify')
  verify(@Query() query: unknown): Promise<VerifyReport> {
    const parsed = VerifyQuerySchema.safeParse(query);
    if (!parsed.success) throw new InvalidInputError('chain: expected a chain number (a partition of airlock.audit)');
    return this.integrity.verify(parsed.data.chain);
  }
}
