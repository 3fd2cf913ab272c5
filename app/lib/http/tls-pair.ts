import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import { pollUntil } from "../poll";

export interface TlsPair {
  cert: Buffer;
  key: Buffer;
}

/** The certificate and key if both files exist and belong together; otherwise why not. */
export function readTlsPair(certFile: string, keyFile: string): TlsPair | string {
  let pair: TlsPair;
  try {
    pair = { cert: readFileSync(certFile), key: readFileSync(keyFile) };
  } catch (error) {
    return (error as Error).message;
  }
  try {
    // Throws on an unreadable PEM or a key that does not match the certificate.
    createSecureContext(pair);
  } catch (error) {
    return `${certFile} and ${keyFile}: ${(error as Error).message}`;
  }
  return pair;
}

/**
 * Waits for freehold-tls to have written a matching pair. The web app starts beside that unit
 * rather than after it, so Node's start-up (seconds on a small board) overlaps key generation.
 */
export async function waitForTlsPair(
  certFile: string,
  keyFile: string,
  timeoutMs = 120_000,
  intervalMs = 200,
): Promise<TlsPair> {
  let last = "";
  return pollUntil(
    () => {
      const pair = readTlsPair(certFile, keyFile);
      if (typeof pair !== "string") return pair;
      last = pair;
      return undefined;
    },
    {
      timeoutMs,
      intervalMs,
      timedOut: () =>
        new Error(
          `no usable TLS certificate after ${timeoutMs / 1000} s (${last}); ` +
            "check freehold-tls.service (journalctl -u freehold-tls)",
        ),
    },
  );
}
