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

/**
 * Whether `text` matches a value pattern where `*` stands for any characters (none included) and
 * everything else is literal. Two pointers, no regular expression: at worst proportional to the
 * product of the lengths, never exponential.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}
