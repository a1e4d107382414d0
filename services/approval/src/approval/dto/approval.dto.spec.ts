import type { ApprovalEntity } from '../../store/approval.entity';
import { showInvisible } from '../../notifications/text';
import { InvalidInputError, parseInput } from '../../errors';
import { DecisionBodySchema, ListQuerySchema, approvalView } from './approval.dto';

describe('approver input', () => {
  it('takes no body, an empty one or a comment; a blank comment is none', () => {
    expect(parseInput(DecisionBodySchema, undefined)).toEqual({});
    expect(parseInput(DecisionBodySchema, null)).toEqual({});
    expect(parseInput(DecisionBodySchema, { comment: '  fine  ' })).toEqual({ comment: 'fine' });
    expect(parseInput(DecisionBodySchema, { comment: '   ' })).toEqual({});
  });

  it('refuses long comments and unknown fields, naming them', () => {
    expect(() => parseInput(DecisionBodySchema, { comment: 'x'.repeat(2001) })).toThrow(/^comment: /);
    expect(() => parseInput(DecisionBodySchema, { coment: 'typo' })).toThrow(/coment/);
    expect(() => parseInput(DecisionBodySchema, 'approve')).toThrow(InvalidInputError);
  });

  it('lists pending approvals unless asked for another state', () => {
    expect(parseInput(ListQuerySchema, {})).toEqual({ state: 'pending' });
    expect(parseInput(ListQuerySchema, { state: 'expired' })).toEqual({ state: 'expired' });
    expect(() => parseInput(ListQuerySchema, { state: 'open' })).toThrow(/^state: /);
  });
});

function stored(detail: string) {
  const approval = {
    id: '0192f0c0-0000-7000-8000-000000000001',
    state: 'pending',
    requesterIssuer: 'https://idp',
    requesterSubject: 'agent',
    requesterGroups: ['agents'],
    connection: 'db',
    protocol: 'postgres',
    fingerprint: 'f',
    sessionId: '0192f0c0-0000-7000-8000-0000000000a1',
    requestId: '0192f0c0-0000-7000-8000-0000000000b1',
    ruleId: null,
    reason: 'r',
    detail,
    approverGroups: ['dba'],
    required: 1,
    grantSeconds: 0,
    createdAt: new Date(0),
    expiresAt: new Date(60_000),
    grantUntil: null,
    decidedAt: null,
    usedAt: null,
  } as unknown as ApprovalEntity;
  return { approval, votes: [] };
}

describe('the approval as the API shows it', () => {
  it('shows the whole operation with control and bidirectional characters escaped', () => {
    const detail = `UPDATE t SET a = '\u202eexe.txt\u202c' -- \u2066\u0000\u009b\r\n${'y'.repeat(70_000)} end`;
    const view = approvalView(stored(detail), 0, 'https://approvals.example/approvals/x');
    expect(view.detail).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u0000\u009b\r]/);
    expect(view.detail).toContain("'\\u202eexe.txt\\u202c' -- \\u2066\\u0000\\u009b\ny");
    expect(view.detail.endsWith(' end')).toBe(true);
  });
});

describe('showInvisible', () => {
  it.each([
    ['\u200e\u200f\u061c\ufeff\u200b', '\\u200e\\u200f\\u061c\\ufeff\\u200b'],
    ['a\tb\nc', 'a\tb\nc'],
    ['lone\rcr', 'lone\\u000dcr'],
    ['literal \\u202e stays told apart', 'literal \\\\u202e stays told apart'],
    ['héllo 😀 世界', 'héllo 😀 世界'],
  ])('%j', (input, shown) => {
    expect(showInvisible(input)).toBe(shown);
  });
});
