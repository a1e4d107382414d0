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

/**
 * Table and function name patterns of policy rules: `*` matches within one part of a dotted
 * name ("public.*" matches "public.orders", not "public.a.b"). Everything else is literal.
 * Names reach policy in lower case, so patterns are compared in lower case too.
 */
export function compileNamePattern(pattern: string): RegExp {
  const re = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^.]*');
  return new RegExp(`^${re}$`);
}
