import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { uuidv7, type PolicyEvaluateRequest } from '@airlock/contracts';
import { SQL_COMMANDS, classifySql, loadSqlParser } from '@airlock/sql';
import { PolicyEvaluator } from './evaluator';
import { PolicyDocumentError, parsePolicyDocument } from './policy-document';

const rule = (sql: string): string => `rules: [ { id: x, effect: deny, connections: [db], sql: ${sql} } ]`;

function request(sql: string): PolicyEvaluateRequest {
  const c = classifySql(sql);
  if (!c.parsed) throw new Error(`${sql} did not parse`);
  return {
    requestId: uuidv7(),
    sessionId: uuidv7(),
    principal: { issuer: 'https://idp.example', subject: 'agent', groups: [] },
    connection: 'db',
    protocol: 'postgres',
    operation: {
      kind: 'postgres',
      via: 'simple',
      sql,
      fingerprint: c.fingerprint,
      parsed: true,
      statements: c.statements,
      paramCount: 0,
    },
  };
}

describe('policy documents refuse what they cannot mean', () => {
  beforeAll(async () => {
    await loadSqlParser();
  });

  it('refuses a command name the classifier never produces, naming the valid ones', () => {
    expect(() => parsePolicyDocument(rule('{ commands: [TRUNCATE TABLES] }'))).toThrow(PolicyDocumentError);
    expect(() => parsePolicyDocument(rule('{ commands: [TRUNCATE TABLES] }'))).toThrow(
      /unknown SQL command "TRUNCATE TABLES".*TRUNCATE TABLE/,
    );
    // No command starts with the word: the whole list is named.
    expect(() => parsePolicyDocument(rule('{ commands: [UPSERT] }'))).toThrow(
      /unknown SQL command "UPSERT".*SELECT.*VACUUM/,
    );
  });

  it('takes a leading keyword as an alias of the one command it begins, and refuses it when it begins several', () => {
    const doc = parsePolicyDocument(rule('{ commands: [TRUNCATE, LOCK, SELECT] }'));
    expect(doc.rules[0].sql?.commands).toEqual(['TRUNCATE TABLE', 'LOCK TABLE', 'SELECT']);
    const evaluator = new PolicyEvaluator(doc);
    expect(evaluator.evaluate(request('TRUNCATE orders'))).toMatchObject({ decision: 'deny', ruleId: 'x' });
    expect(() => parsePolicyDocument(rule('{ commands: [DROP] }'))).toThrow(
      /"DROP" names several SQL commands.*DROP TABLE.*DROP VIEW/,
    );
  });

  it('refuses an unknown class or risk, naming the valid ones', () => {
    expect(() => parsePolicyDocument(rule('{ classes: [writes] }'))).toThrow(
      /unknown SQL class "writes": expected one of read, write, .*admin/,
    );
    expect(() => parsePolicyDocument(rule('{ risks: [write-without-limit] }'))).toThrow(
      /unknown SQL risk "write-without-limit": expected one of write-without-where/,
    );
  });

  it('loads every policy file of the repository', () => {
    for (const file of ['config/policy.yaml', 'test/fixtures/policy.yaml']) {
      const doc = parsePolicyDocument(readFileSync(join(__dirname, '../../../..', file), 'utf8'));
      expect(doc.rules.length).toBeGreaterThan(0);
      for (const r of doc.rules) for (const c of r.sql?.commands ?? []) expect(SQL_COMMANDS).toContain(c);
    }
  });
});
