/** A set of WebSocket close codes written as `1000 1008 4000-4099` (spaces or commas). */
export type CodeRanges = readonly (readonly [number, number])[];

export const DEFAULT_STOP_CODES: CodeRanges = [
  [1000, 1000],
  [1008, 1008],
];

/**
 * Parses a close-code list. Returns undefined when any entry is not a code or
 * an ascending range of codes (0–4999), so that callers can warn and keep
 * their default rather than half-apply a typo.
 */
export function parseCodeRanges(text: string): CodeRanges | undefined {
  const ranges: [number, number][] = [];
  for (const entry of text.split(/[\s,]+/).filter(Boolean)) {
    const match = /^(\d{1,4})(?:-(\d{1,4}))?$/.exec(entry);
    if (!match) return undefined;
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (low > high || high > 4999) return undefined;
    ranges.push([low, high]);
  }
  return ranges;
}

export function includesCode(ranges: CodeRanges, code: number): boolean {
  return ranges.some(([low, high]) => code >= low && code <= high);
}

export function formatCodeRanges(ranges: CodeRanges): string {
  return ranges.map(([low, high]) => (low === high ? `${low}` : `${low}-${high}`)).join(' ');
}
