/** Ids are short, lowercase and unguessable: `sb-` and 16 base32 characters (80 bits). */
export function generateId(prefix = "sb-", length = 16): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let id = prefix;
  for (const byte of bytes) id += alphabet[byte & 31];
  return id;
}
