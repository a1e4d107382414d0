import { Masker, resolveMaskingRules } from '@airlock/masking';
import {
  decodeDataRow,
  decodeErrorFields,
  encodeDataRow,
  encodeErrorFields,
  type FieldDescription,
} from '@airlock/pg-wire';
import { loadSqlParser, type RelationInfo, type RelationSource } from '@airlock/sql';
import { maskedUseRefusal, planText, type RelationLookup, type TextMaskPlan } from './masking-plan';
import { CredentialScrubber, ResultMasker, WITHHELD_MESSAGE, withholdServerMessage } from './row-masking';

const masker = new Masker(resolveMaskingRules(['secrets', 'column:public.customers.ssn']));
const SSN = 'column:public.customers.ssn';

const relations: Record<string, RelationInfo> = {
  'public.customers': { kind: 'table', columns: ['id', 'name', 'ssn'] },
  'public.orders': { kind: 'table', columns: ['id', 'note'] },
};
const source: RelationSource = { relation: (q) => relations[q] ?? null };

function lookup(cached: boolean, fails = false): RelationLookup & { loads: number; gen: number } {
  const l = {
    loads: 0,
    gen: 0,
    generation: () => l.gen,
    forget: () => undefined,
    cached: () => (cached ? source : null),
    load: () => {
      l.loads++;
      return fails ? Promise.reject(new Error('catalog down')) : Promise.resolve(source);
    },
  };
  return l;
}

function field(name: string, tableOid = 0): FieldDescription {
  return { name, tableOid, columnAttr: 0, typeOid: 25, typeSize: -1, typeModifier: -1, format: 0 };
}

beforeAll(async () => {
  await loadSqlParser();
});

describe('planText', () => {
  it('plans without waiting when the catalog knows every relation', () => {
    const l = lookup(true);
    const plan = planText(`SELECT id, upper(ssn) FROM customers`, masker, ['public'], l, () => undefined);
    expect(plan).not.toBeInstanceOf(Promise);
    expect((plan as TextMaskPlan).resultRules(0, [field('id'), field('upper')])).toEqual([null, SSN]);
    expect(l.loads).toBe(0);
  });

  it('leaves the columns of a result free of masked data as they are (SHOW)', () => {
    const plan = planText(`SHOW client_encoding`, masker, ['public'], lookup(true), () => undefined);
    expect((plan as TextMaskPlan).resultRules(0, [field('client_encoding')])).toEqual([null]);
  });

  it('loads what the catalog lacks, and masks and refuses when it cannot be read', async () => {
    const l = lookup(false);
    const plan = await planText(`SELECT c::text FROM customers c`, masker, ['public'], l, () => undefined);
    expect(plan.resultRules(0, [field('c')])).toEqual([SSN]);
    expect(l.loads).toBe(1);
    const errors: unknown[] = [];
    const down = await planText(
      `SELECT name FROM customers WHERE id = 1`,
      masker,
      ['public'],
      lookup(false, true),
      (e) => errors.push(e),
    );
    expect(errors).toHaveLength(1);
    expect(down.resultRules(0, [field('name')])).toEqual(['unresolved-column']);
    expect(maskedUseRefusal(down, false)?.publicMessage).toMatch(/a column the gateway could not resolve/);
  });

  it('plans each statement of a text, and masks a result it does not line up with', () => {
    const plan = planText(
      `SET x = 1; SELECT ssn || '' FROM customers; SELECT id FROM orders`,
      masker,
      ['public'],
      lookup(true),
      () => undefined,
    ) as TextMaskPlan;
    expect(plan.resultRules(1, [field('v')])).toEqual([SSN]);
    expect(plan.resultRules(2, [field('id')])).toEqual([null]);
    // Two columns where the analysis found one: nothing can be matched by position.
    expect(plan.resultRules(2, [field('id'), field('x')])).toEqual(['unresolved-column', 'unresolved-column']);
    expect(plan.resultRules(7, [field('id')])).toEqual(['unresolved-column']);
    expect(plan.touchesMasked).toBe(true);
  });

  it('refuses a search unless allowed, and a copy always', () => {
    const search = planText(
      `SELECT id FROM customers WHERE ssn LIKE '0%'`,
      masker,
      ['public'],
      lookup(true),
      () => undefined,
    ) as TextMaskPlan;
    const refusal = maskedUseRefusal(search, false);
    expect(refusal?.sqlstate).toBe('42501');
    expect(refusal?.publicMessage).toMatch(/masked column public\.customers\.ssn in WHERE/);
    expect(maskedUseRefusal(search, true)).toBeNull();
    const copy = planText(
      `INSERT INTO orders (note) SELECT ssn FROM customers`,
      masker,
      ['public'],
      lookup(true),
      () => undefined,
    ) as TextMaskPlan;
    expect(maskedUseRefusal(copy, true)?.publicMessage).toMatch(/writes masked data/);
    const plain = planText(`SELECT id FROM orders WHERE id = 1`, masker, ['public'], lookup(true), () => undefined);
    expect(maskedUseRefusal(plain as TextMaskPlan, false)).toBeNull();
    expect((plain as TextMaskPlan).touchesMasked).toBe(false);
  });

  it('keeps plans per text and per shape, but not across positions, and not once the catalog learnt more', () => {
    const l = lookup(true);
    const plan = (sql: string) => planText(sql, masker, ['public'], l, () => undefined) as TextMaskPlan;
    const first = plan(`SELECT name, upper(ssn) FROM customers WHERE id = 1`);
    expect(plan(`SELECT name, upper(ssn) FROM customers WHERE id = 1`)).toBe(first);
    expect(plan(`SELECT name, upper(ssn) FROM customers WHERE id = 2`)).toBe(first);
    // A number the grammar reads as a position is not a constant: ORDER BY 2 searches ssn, ORDER BY 1 does not.
    expect(plan(`SELECT name, ssn FROM customers ORDER BY 1`).searched).toEqual([]);
    expect(plan(`SELECT name, ssn FROM customers ORDER BY 2`).searched).toEqual([SSN]);
    // (The shape's sibling of ORDER BY 2 is ORDER BY 1: both plan alike, yet ORDER BY 3 does not.)
    expect(plan(`SELECT name, id, ssn FROM customers ORDER BY 2`).searched).toEqual([]);
    expect(plan(`SELECT name, id, ssn FROM customers ORDER BY 3`).searched).toEqual([SSN]);
    l.gen++;
    const again = plan(`SELECT name, upper(ssn) FROM customers WHERE id = 1`);
    expect(again).not.toBe(first);
    expect(again.resultRules(0, [field('name'), field('upper')])).toEqual([null, SSN]);
    // Another search path is another plan.
    expect(
      planText(`SELECT name, upper(ssn) FROM customers WHERE id = 1`, masker, ['hr'], l, () => undefined),
    ).not.toBe(again);
  });

  it('plans statements after DDL in the same text as unresolved', () => {
    const plan = planText(
      `CREATE OR REPLACE VIEW v AS SELECT ssn AS x FROM customers; SELECT x FROM v WHERE x > '1'`,
      masker,
      ['public'],
      lookup(true),
      () => undefined,
    ) as TextMaskPlan;
    expect(plan.resultRules(1, [field('x')])).toEqual(['unresolved-column']);
    expect(maskedUseRefusal(plan, false)).not.toBeNull();
    const before = planText(
      `SELECT name FROM customers; CREATE TABLE t (a int)`,
      masker,
      ['public'],
      lookup(true),
      () => undefined,
    );
    expect((before as TextMaskPlan).resultRules(0, [field('name')])).toEqual([null]);
  });

  it('treats text that does not parse as unresolved', () => {
    const plan = planText(`SELEC nonsense`, masker, ['public'], lookup(true), () => undefined) as TextMaskPlan;
    expect(plan.resultRules(0, [field('a')])).toEqual(['unresolved-column']);
    expect(maskedUseRefusal(plan, false)).not.toBeNull();
  });
});

describe('ResultMasker with data-flow rules', () => {
  it('masks a computed column (table OID 0) by its flow rule, and keeps the others', () => {
    const rm = new ResultMasker(masker, new CredentialScrubber([]), [field('id'), field('v')], new Map(), [null, SSN]);
    const body = encodeDataRow(['1', '078-05-1120']).subarray(5);
    const out = rm.maskRow(body, Buffer.alloc(0), { rows: 0, rowsMasked: 0, counts: {} });
    expect(decodeDataRow(out.subarray(5)).map((v) => v?.toString())).toEqual(['1', `[MASKED:${SSN}]`]);
  });

  it('masks a json or jsonb column with a JSON string, so that clients still parse it', () => {
    const json = { ...field('j'), typeOid: 3802 };
    const rm = new ResultMasker(masker, new CredentialScrubber([]), [json], new Map(), [SSN]);
    const body = encodeDataRow(['{"ssn": "078-05-1120"}']).subarray(5);
    const out = rm.maskRow(body, Buffer.alloc(0), { rows: 0, rowsMasked: 0, counts: {} });
    expect(JSON.parse(decodeDataRow(out.subarray(5))[0]!.toString())).toBe(`[MASKED:${SSN}]`);
  });
});

describe('withholdServerMessage', () => {
  it('keeps severity, SQLSTATE and position, and drops every text', () => {
    const body = encodeErrorFields('E', {
      S: 'ERROR',
      V: 'ERROR',
      C: '22P02',
      M: 'invalid input syntax for type integer: "078-05-1120"',
      D: 'detail 078-05-1120',
      H: 'hint',
      W: 'where',
      P: '8',
    }).subarray(5);
    const fields = decodeErrorFields(withholdServerMessage(body).subarray(5));
    expect(fields).toEqual({ S: 'ERROR', V: 'ERROR', C: '22P02', P: '8', M: WITHHELD_MESSAGE });
  });
});
