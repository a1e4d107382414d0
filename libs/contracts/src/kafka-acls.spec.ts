import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { aclTableMarkdown, groupAcl, kafkaAcls } from './kafka-acls';
import { KafkaPrincipals, TOPIC_CATALOGUE, Topics } from './topics';

describe('Kafka ACLs from the topic catalogue', () => {
  it('names at least one producer and one consumer for every topic, each a known principal', () => {
    for (const topic of TOPIC_CATALOGUE) {
      expect([topic.name, topic.producers.length > 0, topic.consumers.length > 0]).toEqual([topic.name, true, true]);
      for (const p of [...topic.producers, ...topic.consumers]) expect(KafkaPrincipals).toContain(p);
    }
  });

  it('gives every non-admin producer WRITE and every consumer READ on exactly its topics', () => {
    const acls = kafkaAcls();
    for (const topic of TOPIC_CATALOGUE) {
      const writers = acls
        .filter((a) => a.resourceName === topic.name && a.operation === 'WRITE')
        .map((a) => a.principal);
      const readers = acls
        .filter((a) => a.resourceName === topic.name && a.operation === 'READ')
        .map((a) => a.principal);
      expect(writers.sort()).toEqual(topic.producers.filter((p) => p !== 'admin').sort());
      expect(readers.sort()).toEqual(topic.consumers.filter((p) => p !== 'admin').sort());
    }
    expect(acls.some((a) => (a.principal as string) === 'admin')).toBe(false);
  });

  it('lets the SIEM read the audit topic and its own groups only, and write nothing', () => {
    const siem = kafkaAcls().filter((a) => a.principal === 'siem');
    expect(siem).toEqual(
      expect.arrayContaining([
        {
          principal: 'siem',
          resourceType: 'TOPIC',
          patternType: 'LITERAL',
          resourceName: Topics.Audit,
          operation: 'READ',
        },
        { principal: 'siem', resourceType: 'GROUP', patternType: 'PREFIXED', resourceName: 'siem', operation: 'READ' },
      ]),
    );
    expect(siem.filter((a) => a.resourceType === 'TOPIC').every((a) => a.resourceName === Topics.Audit)).toBe(true);
    expect(siem.some((a) => a.operation === 'WRITE')).toBe(false);
  });

  it('scopes each service to the consumer groups named after it', () => {
    expect(groupAcl('policy', { groupPrefix: 'test-1' }).resourceName).toBe('test-1-policy');
    expect(
      kafkaAcls()
        .filter((a) => a.resourceType === 'GROUP')
        .map((a) => a.resourceName)
        .sort(),
    ).toEqual([
      'airlock-approval',
      'airlock-credential-vault',
      'airlock-ingress-proxy',
      'airlock-policy',
      'airlock-recorder',
      'siem',
    ]);
  });

  it('is documented in docs/security.md exactly as generated', () => {
    const doc = readFileSync(join(__dirname, '../../../docs/security.md'), 'utf8');
    const section = /<!-- acl-table:start -->([\s\S]*?)<!-- acl-table:end -->/.exec(doc)?.[1] ?? '';
    // Cells compared without the padding a Markdown formatter adds; separator rows skipped.
    const rows = (text: string): string[] =>
      text
        .split('\n')
        .filter((l) => l.startsWith('|') && !/^\|[\s|:-]+\|$/.test(l))
        .map((l) =>
          l
            .split('|')
            .map((c) => c.trim())
            .join('|'),
        );
    expect(rows(section)).toEqual(rows(aclTableMarkdown()));
  });

  it('lists the same principals as the local infrastructure creates', () => {
    const lib = readFileSync(join(__dirname, '../../../infra/local/lib.sh'), 'utf8');
    const list = /^KAFKA_PRINCIPALS=\(([^)]*)\)/m.exec(lib)?.[1].split(/\s+/).filter(Boolean) ?? [];
    expect(list.sort()).toEqual([...KafkaPrincipals].sort());
  });
});
