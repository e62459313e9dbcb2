/**
 * Resolves what a user wrote as a WebSocket URL: `ws:`/`wss:` as they are,
 * `http:`/`https:` mapped to `ws:`/`wss:`, and paths beginning with `/`, `./`
 * or `../` resolved against `base` (the page), with `wss:` on https pages.
 * Returns undefined for anything else.
 *
 * @example
 * resolveSocketUrl('/ws', 'https://example.com/app/'); // 'wss://example.com/ws'
 */
export function resolveSocketUrl(input: string, base?: string): string | undefined {
  const text = input.trim();
  const relative = /^(\/|\.\/|\.\.\/)/.test(text) && !text.startsWith('//');
  if (relative && !base) return undefined;
  let url: URL;
  try {
    url = relative ? new URL(text, base) : new URL(text);
  } catch {
    return undefined;
  }
  const schemes: Record<string, string> = {'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:'};
  const scheme = schemes[url.protocol];
  if (!scheme || !url.hostname) return undefined;
  url.protocol = scheme;
  url.hash = '';
  return url.href;
}

/** The URL without its query string and fragment, where tokens often live: fit for a log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return '(unparseable url)';
  }
}
