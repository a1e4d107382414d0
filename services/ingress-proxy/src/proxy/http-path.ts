/** Splits `/c/<connection>/<rest>?<query>` into its parts. */
export function splitGatewayUrl(url: string): { connection: string; path: string; query: string } | undefined {
  const m = /^\/c\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  if (!m) return undefined;
  return { connection: m[1], path: m[2] ?? '/', query: m[3] ?? '' };
}

/**
 * Policy decides on the path the upstream will see, so a path that an upstream could resolve
 * differently (dot segments, encoded separators, backslashes, empty segments) is refused
 * rather than normalised in a way that might not match the upstream's own rules.
 */
export function ambiguousPathReason(path: string): string | undefined {
  if (/%2f|%5c|%2e|%00/i.test(path)) return 'encoded "/", "\\", "." or NUL in the path';
  if (path.includes('\\')) return 'backslash in the path';
  if (path.includes('//')) return 'empty path segment';
  if (path.split('/').some((s) => s === '.' || s === '..')) return 'dot segment in the path';
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'control character in the path';
  return undefined;
}
