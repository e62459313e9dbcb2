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

/**
 * The URL without credentials, query string and fragment, where tokens live:
 * fit for a log or an error message. Works on text as written, so it also
 * cleans what does not parse as a URL.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][\w+.-]*:\/*)[^/?#]*@/i, '$1')
    .replace(/[?#][^]*/, (cut) => (cut[0] === '?' ? '?…' : ''));
}
