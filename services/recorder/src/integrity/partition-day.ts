/** The Unix milliseconds in the first 48 bits of a UUIDv7. */
export function uuidV7Millis(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

/** The UTC day (YYYY-MM-DD) whose partition holds the event with this UUIDv7 id. */
const DAY_MS = 86_400_000;
// Consecutive events fall on the same day: the last day is kept rather than formatted again.
let lastDay = { start: 0, end: 0, name: '' };

export function partitionDayOf(id: string): string {
  const ms = uuidV7Millis(id);
  if (ms < lastDay.start || ms >= lastDay.end) {
    const start = ms - (((ms % DAY_MS) + DAY_MS) % DAY_MS);
    lastDay = { start, end: start + DAY_MS, name: new Date(start).toISOString().slice(0, 10) };
  }
  return lastDay.name;
}
