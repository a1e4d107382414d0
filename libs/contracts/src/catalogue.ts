import { z } from 'zod';
import { AuditEventSchema } from './audit';
import {
  ApprovalCancelSchema,
  ApprovalDecidedSchema,
  AuditDeadLetterSchema,
  HealthcheckProbeSchema,
  PolicyChangedSchema,
  VaultRotatedSchema,
} from './events';
import { RequestReplyContracts } from './requests';
import { Topics, replyTopicOf } from './topics';

/** Event topics and the schema of their messages. */
export const EventContracts = {
  [Topics.ApprovalDecided]: ApprovalDecidedSchema,
  [Topics.ApprovalCancel]: ApprovalCancelSchema,
  [Topics.PolicyChanged]: PolicyChangedSchema,
  [Topics.VaultRotated]: VaultRotatedSchema,
  [Topics.Audit]: AuditEventSchema,
  [Topics.AuditDeadLetter]: AuditDeadLetterSchema,
  [Topics.Healthcheck]: HealthcheckProbeSchema,
} as const;
export type EventTopic = keyof typeof EventContracts;
export type EventOf<T extends EventTopic> = z.infer<(typeof EventContracts)[T]>;

/** The schema of every message on every topic: one place for consumers to validate against. */
export const TopicSchemas: Record<string, z.ZodType> = {
  [Topics.PolicyEvaluate]: RequestReplyContracts[Topics.PolicyEvaluate].request,
  [replyTopicOf(Topics.PolicyEvaluate)]: RequestReplyContracts[Topics.PolicyEvaluate].reply,
  [Topics.VaultLease]: RequestReplyContracts[Topics.VaultLease].request,
  [replyTopicOf(Topics.VaultLease)]: RequestReplyContracts[Topics.VaultLease].reply,
  [Topics.ApprovalRequest]: RequestReplyContracts[Topics.ApprovalRequest].request,
  [replyTopicOf(Topics.ApprovalRequest)]: RequestReplyContracts[Topics.ApprovalRequest].reply,
  [Topics.ApprovalStatus]: RequestReplyContracts[Topics.ApprovalStatus].request,
  [replyTopicOf(Topics.ApprovalStatus)]: RequestReplyContracts[Topics.ApprovalStatus].reply,
  ...EventContracts,
};
