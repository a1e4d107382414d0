import { InvalidInputError, parseInput } from '../../errors';
import { DecisionBodySchema, ListQuerySchema } from './approval.dto';

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
