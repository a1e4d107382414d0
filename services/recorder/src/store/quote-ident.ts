/** An SQL identifier, quoted: for names that cannot be bind parameters (roles, partitions). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
