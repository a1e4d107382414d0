import { roleOf } from './store.options';

describe('roleOf', () => {
  it('gives the user name of a postgres URL', () => {
    expect(roleOf('postgres://airlock_recorder:secret@db.internal:5432/audit')).toBe('airlock_recorder');
    expect(roleOf('postgresql://owner@localhost/audit?sslmode=require')).toBe('owner');
  });

  it('decodes a URL-encoded user name', () => {
    expect(roleOf('postgres://audit%40corp:pw@db/audit')).toBe('audit@corp');
    expect(roleOf('postgres://rec%20order:pw@db/audit')).toBe('rec order');
    expect(roleOf('postgres://a%3Ab%2Fc:pw@db/audit')).toBe('a:b/c');
    expect(roleOf('postgres://r%C3%A9cord:pw@db/audit')).toBe('r\u00e9cord');
  });

  it('keeps the case of the user name', () => {
    expect(roleOf('postgres://Recorder:pw@db/audit')).toBe('Recorder');
  });

  it('does not take the password for the user name', () => {
    expect(roleOf('postgres://writer:owner@db/audit')).toBe('writer');
  });

  it('refuses a URL with no user, naming the setting', () => {
    expect(() => roleOf('postgres://db.internal/audit')).toThrow(/DATABASE_URL names no user/);
  });

  it('refuses text that is not a URL', () => {
    expect(() => roleOf('recorder@db/audit')).toThrow('Invalid URL');
  });
});
