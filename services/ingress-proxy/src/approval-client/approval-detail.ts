import { isUtf8 } from 'node:buffer';
import { truncateText } from '@airlock/contracts';

/** The contract's limit on what approvers are shown. */
export const DETAIL_MAX = 65536;
/** An HTTP body is shown up to this many characters. */
export const BODY_SHOWN_MAX = 4096;
/** One bind parameter value is shown up to this many characters. */
const PARAM_SHOWN_MAX = 4096;
/** The list of bind parameters takes at most this much of the detail, so the statement always shows. */
const PARAMS_SHOWN_MAX = 16384;

function capped(s: string): string {
  if (s.length <= DETAIL_MAX) return s;
  const note = `\n… (cut at ${DETAIL_MAX} of ${s.length} characters)`;
  return truncateText(s, DETAIL_MAX - note.length) + note;
}

/**
 * Control characters other than tab and line breaks could rewrite what a terminal or a chat
 * client shows the approver: a body holding them is described, not shown.
 */
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** How approvers are shown a body: its text when it is UTF-8 text, otherwise its size. */
export function describeBody(body: Buffer): string {
  if (!isUtf8(body)) return `<${body.length} bytes of binary data>`;
  const text = body.toString('utf8');
  if (CONTROL.test(text)) return `<${body.length} bytes of binary data>`;
  if (text.length <= BODY_SHOWN_MAX) return text;
  return `${truncateText(text, BODY_SHOWN_MAX)}\n… (body cut at ${BODY_SHOWN_MAX} of ${text.length} characters)`;
}

/** One header value is shown up to this many characters. */
const HEADER_SHOWN_MAX = 512;

/**
 * The request line (query included), the headers the approval is bound to (one per line), then
 * the body after a blank line when there is one.
 */
export function httpApprovalDetail(op: {
  method: string;
  path: string;
  query: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: Buffer;
}): string {
  let head = `${op.method} ${op.path}${op.query}`;
  for (const [name, value] of op.headers ?? []) {
    const shown = truncateText(value, HEADER_SHOWN_MAX);
    head += `\n${name}: ${CONTROL.test(shown) ? '<not shown: control characters>' : shown}${shown.length < value.length ? ' …' : ''}`;
  }
  return capped(op.body && op.body.length > 0 ? `${head}\n\n${describeBody(op.body)}` : head);
}

function quoted(value: string | null): string {
  if (value === null) return 'NULL';
  const shown = truncateText(value, PARAM_SHOWN_MAX);
  const note = shown.length < value.length ? ` … (cut at ${shown.length} of ${value.length} characters)` : '';
  return `'${shown.replace(/'/g, "''")}'${note}`;
}

/** The exact statement text, then its bind parameter values one per line (`$1 = '...'`). */
export function sqlApprovalDetail(sql: string, params?: ReadonlyArray<string | null>): string {
  if (!params || params.length === 0) return capped(sql);
  let list = '';
  for (let i = 0; i < params.length; i++) {
    const line = `${i > 0 ? '\n' : ''}$${i + 1} = ${quoted(params[i])}`;
    if (list.length + line.length > PARAMS_SHOWN_MAX) {
      list += `\n… and ${params.length - i} more parameters`;
      break;
    }
    list += line;
  }
  const room = DETAIL_MAX - list.length - 2;
  if (sql.length <= room) return `${sql}\n\n${list}`;
  const note = `\n… (statement cut at ${room} of ${sql.length} characters)`;
  return `${truncateText(sql, room - note.length)}${note}\n\n${list}`;
}
