/**
 * The Unix milliseconds in the first 48 bits of a UUIDv7 (its first 8 and next 4 hex digits),
 * read digit by digit: this runs for every stored event, and slicing would make two strings
 * each time. NaN when those digits are not hex.
 */
export function uuidV7Millis(id: string): number {
  let ms = 0;
  for (let i = 0; i < 13; i++) {
    if (i === 8) continue;
    const c = id.charCodeAt(i);
    const letter = c | 0x20; // A–F as a–f
    const digit = c >= 0x30 && c <= 0x39 ? c - 0x30 : letter >= 0x61 && letter <= 0x66 ? letter - 0x57 : -1;
    if (digit < 0) return NaN;
    ms = ms * 16 + digit;
  }
  return ms;
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
