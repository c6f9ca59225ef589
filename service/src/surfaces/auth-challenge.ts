/**
 * RFC 9110 §11.6.1: a 401 names the scheme that would succeed, so a client (or a person with curl)
 * learns to send `Authorization: Bearer <token>`. Every surface that can answer 401 adds these headers.
 */
export const AUTH_CHALLENGE = 'Bearer realm="sandgate"';

/** The extra headers of an error answer with this status: the challenge on a 401, nothing otherwise. */
export function challengeHeaders(status: number): Record<string, string> {
  return status === 401 ? { "www-authenticate": AUTH_CHALLENGE } : {};
}
