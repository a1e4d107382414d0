import { classifySql, loadSqlParser } from './index';

describe('loading the parser', () => {
  it('refuses to classify before the parser is loaded, then loads once however often it is asked', async () => {
    expect(() => classifySql('SELECT 1')).toThrow(/await loadSqlParser\(\)/);
    await Promise.all([loadSqlParser(), loadSqlParser()]);
    await loadSqlParser();
    expect(classifySql('SELECT 1')).toMatchObject({ parsed: true });
  });
});
