import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { IdSchema } from '@airlock/contracts';
import { JwtAuthGuard } from '@airlock/identity';
import { parseInput } from '../errors';
import { NotificationsAdminGuard } from './admin.guard';
import { NotificationsService, type NotificationView } from './notifications.service';

const ListQuerySchema = z.object({
  state: z.enum(['failed', 'delivered']).default('failed'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** Notification outcomes for administrators: what was given up, and why. */
@Controller()
@UseGuards(JwtAuthGuard, NotificationsAdminGuard)
export class NotificationsController {
  constructor(private readonly notifications: NotificationsService) {}

  @Get('notifications')
  async list(@Query() query: unknown): Promise<{ notifications: NotificationView[] }> {
    const { state, limit } = parseInput(ListQuerySchema, query, 'query');
    return { notifications: await this.notifications.list(state, limit) };
  }

  @Get('approvals/:id/notifications')
  async ofApproval(@Param('id') id: string): Promise<{ notifications: NotificationView[] }> {
    return { notifications: await this.notifications.ofApproval(parseInput(IdSchema, id, 'id')) };
  }
}
