/** Splits `/c/<connection>/<rest>?<query>` into its parts. */
export function splitGatewayUrl(url: string): { connection: string; path: string; query: string } | undefined {
  const m = /^\/c\/([^/?#]+)(\/[^?#]*)?(\?[^#]*)?$/.exec(url);
  if (!m) return undefined;
  return { connection: m[1], path: m[2] ?? '/', query: m[3] ?? '' };
}
