/**
 * Path patterns of policy rules: `*` matches within one path segment, `**` matches across
 * segments (including none). Everything else is literal.
 */
export function compilePathPattern(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // "/**" also matches the bare prefix: "/api/**" matches "/api".
        if (re.endsWith('/')) re = `${re.slice(0, -1)}(?:/.*)?`;
        else re += '.*';
      } else {
        re += '[^/]*';
      }
    } else {
      re += c.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}
