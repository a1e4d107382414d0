import { z } from 'zod';

export const ErrorBodySchema = z
  .object({
    error: z.string().describe('Stable code: bad_request, unauthorized, forbidden, not_found, store_unavailable, ...'),
    message: z.string().describe('What went wrong, for a person.'),
  })
  .describe('Every refusal and failure.');
