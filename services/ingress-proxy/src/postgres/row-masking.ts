import { maskToken, type MaskCounts, type Masker } from '@airlock/masking';
import {
  decodeDataRow,
  decodeErrorFields,
  encodeDataRow,
  encodeErrorFields,
  type FieldDescription,
} from '@airlock/pg-wire';
import type { ColumnOrigin } from './column-catalog';

/** The rule that reports the leased credential found in a result. */
export const CREDENTIAL_RULE = 'credential';

/**
 * Exact strings that must never reach the agent whatever policy says: the leased upstream
 * password (and user name), should the server ever echo them.
 */
export class CredentialScrubber {
  private readonly needles: Buffer[];
  private readonly texts: string[];

  constructor(secrets: string[]) {
    this.texts = secrets.filter((s) => s.length >= 4);
    this.needles = this.texts.map((s) => Buffer.from(s, 'utf8'));
  }

  /** True when some needle occurs in the bytes. */
  occursIn(bytes: Buffer): boolean {
    for (const n of this.needles) if (bytes.indexOf(n) !== -1) return true;
    return false;
  }

  scrubText(text: string, counts: MaskCounts): string {
    let out = text;
    for (const t of this.texts) {
      if (!out.includes(t)) continue;
      const parts = out.split(t);
      counts[CREDENTIAL_RULE] = (counts[CREDENTIAL_RULE] ?? 0) + parts.length - 1;
      out = parts.join(maskToken(CREDENTIAL_RULE));
    }
    return out;
  }
}

/** What happens to one result column. */
interface ColumnPlan {
  /** The rule that masks every value of the column, or null. */
  rule: string | null;
  /** Text format: values can be read and masked; binary values of masked columns become NULL unless their type is text. */
  text: boolean;
  /** The column's type is json or jsonb: its mask is a JSON string, so that clients can still parse it. */
  json: boolean;
  typeOid: number;
}

/** Type OIDs of json and jsonb. */
const JSON_TYPES = new Set([114, 3802]);
/** text, varchar, bpchar, name: their binary form is their UTF-8 text, so a mask can be sent in it too. */
const TEXT_TYPES = new Set([25, 1043, 1042, 19]);
const JSONB = 3802;

export interface RowStats {
  rows: number;
  rowsMasked: number;
  counts: MaskCounts;
}

/**
 * Masks the DataRows of one result: whole columns by the rule their name or origin matches,
 * every other text value through the value detectors, and the leased credential everywhere.
 * A row with nothing to mask passes as the very bytes the server sent.
 */
export class ResultMasker {
  private readonly plan: ColumnPlan[];
  private readonly byRule: boolean;

  constructor(
    private readonly masker: Masker | undefined,
    private readonly scrubber: CredentialScrubber,
    fields: readonly FieldDescription[],
    origins: ReadonlyMap<string, ColumnOrigin | null>,
    /** Per column, the rule the statement's data flow masks it by (see masking-plan.ts). */
    flowRules?: ReadonlyArray<string | null>,
  ) {
    this.plan = fields.map((f, i) => {
      let rule: string | null = null;
      if (masker?.masksByName) {
        rule = flowRules?.[i] ?? null;
        const origin = f.tableOid !== 0 ? origins.get(`${f.tableOid}:${f.columnAttr}`) : undefined;
        if (origin === null) {
          // The catalog could not say where the column comes from: mask it rather than guess.
          rule ??= 'unresolved-column';
        } else if (origin) {
          rule ??=
            masker.columnRuleFor(origin.schema, origin.table, origin.column) ?? masker.fieldRuleFor(origin.column);
        }
        rule ??= masker.fieldRuleFor(f.name);
      }
      return { rule, text: f.format === 0, json: JSON_TYPES.has(f.typeOid), typeOid: f.typeOid };
    });
    this.byRule = this.plan.some((p) => p.rule !== null);
  }

  /** Per column, the rule that masks it whole, or null when only its content is scanned. */
  get columnRules(): Array<string | null> {
    return this.plan.map((p) => p.rule);
  }

  /** Returns the row to send: `raw` itself when nothing changed. */
  maskRow(body: Buffer, raw: Buffer, stats: RowStats): Buffer {
    stats.rows++;
    const detect = this.masker !== undefined && this.masker.mayDetect(body.toString('latin1'));
    const leaked = this.scrubber.occursIn(body);
    if (!this.byRule && !detect && !leaked) return raw;
    const values = decodeDataRow(body);
    let changed = false;
    const out: Array<Buffer | string | null> = values;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null) continue;
      const p = this.plan[i] ?? { rule: null, text: false, json: false, typeOid: 0 };
      if (p.rule !== null) {
        out[i] = maskedValue(p, p.rule);
        stats.counts[p.rule] = (stats.counts[p.rule] ?? 0) + 1;
        changed = true;
        continue;
      }
      if (!p.text) {
        if (leaked && this.scrubber.occursIn(v)) {
          out[i] = null;
          stats.counts[CREDENTIAL_RULE] = (stats.counts[CREDENTIAL_RULE] ?? 0) + 1;
          changed = true;
        }
        continue;
      }
      if (!detect && !leaked) continue;
      const s = v.toString('latin1');
      let m = detect ? this.masker!.maskValue(s, stats.counts) : s;
      if (leaked) m = this.scrubber.scrubText(m, stats.counts);
      if (m !== s) {
        out[i] = Buffer.from(m, 'latin1');
        changed = true;
      }
    }
    if (!changed) return raw;
    stats.rowsMasked++;
    return encodeDataRow(out);
  }
}

/**
 * A masked value in the column's own format: the token as text; in binary, the token where the
 * type's binary form is text (JSON ones as a JSON string), NULL for any other type.
 */
function maskedValue(p: ColumnPlan, rule: string): Buffer | string | null {
  const token = maskToken(rule);
  // The token holds no quote or backslash: quoted, it is a JSON string as it is.
  if (p.text) return p.json ? `"${token}"` : token;
  if (TEXT_TYPES.has(p.typeOid)) return token;
  if (p.typeOid === JSONB) return Buffer.concat([Buffer.from([1]), Buffer.from(`"${token}"`)]);
  if (p.json) return `"${token}"`;
  return null;
}

/** Text fields of ErrorResponse and NoticeResponse that may carry data: message, detail, hint, context, query, where. */
const DATA_FIELDS = ['M', 'D', 'H', 'W', 'q', 'p'];

/**
 * Masks an ErrorResponse or NoticeResponse from the server: a failing statement must not echo a
 * secret or the credential back. Returns `raw` when nothing changed.
 */
export function maskServerMessage(
  type: 'E' | 'N',
  body: Buffer,
  raw: Buffer,
  masker: Masker | undefined,
  scrubber: CredentialScrubber,
  counts: MaskCounts,
): Buffer {
  const fields = decodeErrorFields(body);
  let changed = false;
  for (const code of DATA_FIELDS) {
    const v = fields[code];
    if (v === undefined) continue;
    let m = masker ? masker.maskValue(v, counts) : v;
    m = scrubber.scrubText(m, counts);
    if (m !== v) {
      fields[code] = m;
      changed = true;
    }
  }
  return changed ? encodeErrorFields(type, fields) : raw;
}

/** What the client reads in place of a server error about a statement that reads masked data. */
export const WITHHELD_MESSAGE =
  "the statement failed; the server's message is withheld because the statement reads masked data";

/**
 * An ErrorResponse whose message, detail, hint and context are replaced by a generic text: the
 * server may quote a masked value in them (`invalid input syntax for type integer: "078-05-1120"`).
 * Severity, SQLSTATE and position are kept, so clients and scripts still see what kind of error it was.
 */
export function withholdServerMessage(body: Buffer): Buffer {
  const fields = decodeErrorFields(body);
  const kept: Record<string, string> = {};
  for (const code of ['S', 'V', 'C', 'P']) if (fields[code] !== undefined) kept[code] = fields[code];
  kept.M = WITHHELD_MESSAGE;
  return encodeErrorFields('E', kept);
}
