/**
 * Whether a host name or address (no port, no brackets) names this machine's loopback:
 * `localhost`, `::1` or 127.0.0.0/8. For servers that answer without a login only there.
 */
export function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
