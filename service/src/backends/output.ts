/** Keeps the first `maxBytes` bytes of a command's output, for backends whose runtime returns it whole. */
export function capOutput(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength <= maxBytes) return { text, truncated: false };
  return { text: new TextDecoder().decode(bytes.subarray(0, maxBytes)), truncated: true };
}
