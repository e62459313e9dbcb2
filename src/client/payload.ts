/** What goes on the wire for a message: strings and binary as they are; other values as JSON when `json` is on. */
export function toPayload(
  data: unknown,
  json: boolean,
): {payload: unknown} | {problem: string; error?: unknown} {
  if (typeof data === 'string' || isBinary(data)) return {payload: data};
  if (!json) return {problem: 'only strings and binary data can be sent; turn json on to send other values'};
  try {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError(`${typeof data} has no JSON form`);
    return {payload: text};
  } catch (error) {
    return {problem: `cannot serialise the message as JSON: ${describe(error)}`, error};
  }
}

/** What a listener gets for an inbound frame: with `json`, text parsed. */
export function fromPayload(
  data: unknown,
  json: boolean,
): {data: unknown} | {problem: string; error: unknown} {
  if (!json || typeof data !== 'string') return {data};
  try {
    return {data: JSON.parse(data)};
  } catch (error) {
    return {problem: `an inbound message is not JSON: ${describe(error)}`, error};
  }
}

function isBinary(data: unknown): boolean {
  return (
    data instanceof ArrayBuffer ||
    ArrayBuffer.isView(data) ||
    (typeof Blob !== 'undefined' && data instanceof Blob)
  );
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
