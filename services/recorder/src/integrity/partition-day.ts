/** The Unix milliseconds in the first 48 bits of a UUIDv7. */
export function uuidV7Millis(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** The UTC day (YYYY-MM-DD) whose partition holds the event with this UUIDv7 id. */
export function partitionDayOf(id: string): string {
  return new Date(uuidV7Millis(id)).toISOString().slice(0, 10);
}
