/** C0 and C1 controls, bidirectional overrides and zero-width characters: never sent to a terminal as they are. */
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** Shows invisible and control characters as `\uXXXX`, so what a terminal shows is what the text holds. */
export function safeText(s: string): string {
  return s.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** One line of a table cell: newlines and tabs become spaces, long text is cut with an ellipsis. */
export function cell(value: unknown, max = 60): string {
  if (value === null || value === undefined) return '-';
  const text = safeText(String(value)).replace(/[\t\n]+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export interface Column<T> {
  header: string;
  value: (row: T) => unknown;
  /** Right-aligned (numbers). */
  right?: boolean;
  max?: number;
}

/** A plain-text table: a header row, then one row per item, columns padded to their widest cell. */
export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((r) => columns.map((c) => cell(c.value(r), c.max)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i].length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i].right ? v.padStart(widths[i]) : v.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n') + '\n';
}

/** `key: value` lines, keys aligned. */
export function fields(pairs: ReadonlyArray<readonly [string, unknown]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${cell(v, 200)}`).join('\n') + '\n';
}

/** A block of text (an operation, a policy error), indented, every line made safe. */
export function block(text: string, indent = '  '): string {
  return (
    text
      .split('\n')
      .map((l) => `${indent}${safeText(l)}`)
      .join('\n') + '\n'
  );
}

/** JSON for `--json`: pretty, one document, newline-terminated. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
