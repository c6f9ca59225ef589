/** Base64 as the wire carries it, on Web APIs only (atob/btoa): schemas state its pattern, core decodes with it. */

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const step = 0x8000; // String.fromCharCode takes its arguments on the stack
  for (let i = 0; i < bytes.length; i += step) binary += String.fromCharCode(...bytes.subarray(i, i + step));
  return btoa(binary);
}

/** Line breaks, spaces and tabs may sit anywhere in base64 (RFC 2045), and nothing else. */
const B64_SPACE = "[\\t\\n\\r ]*";
const B64_CHAR = `[A-Za-z0-9+/]${B64_SPACE}`;
/**
 * What base64ToBytes accepts, as one regular expression that reads the same in JSON Schema (Python,
 * Rust and JavaScript engines alike): padded base64 with optional whitespace between characters.
 */
export const BASE64_PATTERN = `^${B64_SPACE}(?:(?:${B64_CHAR}){4})*(?:(?:${B64_CHAR}){2}=${B64_SPACE}=${B64_SPACE}|(?:${B64_CHAR}){3}=${B64_SPACE})?$`;

/** Decodes padded base64 (whitespace allowed); undefined when it is not valid base64. */
export function base64ToBytes(text: string): Uint8Array | undefined {
  const clean = text.replace(/[\t\n\r ]+/g, "");
  if (!STRICT_BASE64.test(clean)) return undefined;
  return Uint8Array.from(atob(clean), (c) => c.charCodeAt(0));
}

/** URL-safe base64 without padding (cursors, token parts). */
export function bytesToBase64url(bytes: Uint8Array): string {
  return bytesToBase64(bytes).replaceAll("+", "-").replaceAll("/", "_").replaceAll("=", "");
}

export function base64urlToBytes(text: string): Uint8Array | undefined {
  const standard = text.replaceAll("-", "+").replaceAll("_", "/");
  return base64ToBytes(standard.padEnd(Math.ceil(standard.length / 4) * 4, "="));
}
