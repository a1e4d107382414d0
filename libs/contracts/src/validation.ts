import { z } from 'zod';

/** A message that does not match its contract. The message names the fields at fault. */
export class ContractViolation extends Error {
  constructor(
    readonly contract: string,
    readonly issues: string,
  ) {
    super(`${contract}: ${issues}`);
    this.name = 'ContractViolation';
  }
}

export function parseContract<S extends z.ZodType>(contract: string, schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ContractViolation(contract, z.prettifyError(result.error).replace(/\n/g, '; '));
  }
  return result.data;
}

/** Parses JSON bytes and checks them against a contract; bad JSON is a violation too. */
export function decodeContract<S extends z.ZodType>(
  contract: string,
  schema: S,
  raw: Buffer | string | null,
): z.infer<S> {
  if (raw === null) throw new ContractViolation(contract, 'empty message');
  let value: unknown;
  try {
    value = JSON.parse(raw.toString());
  } catch {
    throw new ContractViolation(contract, 'not valid JSON');
  }
  return parseContract(contract, schema, value);
}
