// Bearer tokens for Ferry's HTTP endpoints (the control plane's API, `ferry link --http`):
// loopback needs none; anywhere else a token of at least 16 characters, compared in constant
// time.
import { createHash, timingSafeEqual } from "node:crypto";

export const MIN_TOKEN_LENGTH = 16;

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A check of an Authorization header against `Bearer <token>`; throws for a token that is too short. */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new RangeError(`a token must be at least ${MIN_TOKEN_LENGTH} characters`);
  }
  // Hashing first makes both sides the same length, which timingSafeEqual needs.
  const expected = digest(`Bearer ${token}`);
  return (authorization) => authorization !== undefined && timingSafeEqual(digest(authorization), expected);
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}
