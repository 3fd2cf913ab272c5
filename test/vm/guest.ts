/** Talking to a booted guest from the host: its self-test report, its console, its HTTPS port. */
import { existsSync, readFileSync } from "node:fs";
import https from "node:https";
import { pollUntil } from "../../app/lib/poll";
import { GuestDiedError, type Vm } from "../../image/vm/qemu";
import { parseSelftest, SELFTEST_PORT, type SelftestReport } from "../../image/vm/selftest";

/** Throws at once when the guest died while `what` was awaited, with the console's tail. */
export function checkAlive(vm: Pick<Vm, "dead" | "tail">, what: string): void {
  const death = vm.dead();
  if (death)
    throw new GuestDiedError(`${death.reason} before ${what}.\nSerial console tail:\n${vm.tail(40)}`, death);
}

/**
 * The one wait on a booted guest: `read` until it yields something, failing at once (with the
 * console's tail) when the guest dies, and after `timeoutMs` with `timedOut`'s message and the tail.
 */
export function untilGuestShows<T>(
  vm: Pick<Vm, "dead" | "tail">,
  what: string | (() => string),
  read: () => T | undefined | Promise<T | undefined>,
  opts: { timeoutMs: number; intervalMs: number; timedOut: () => string },
): Promise<T> {
  return pollUntil(
    async () => {
      const value = await read();
      if (value !== undefined) return value;
      checkAlive(vm, typeof what === "string" ? what : what());
      return undefined;
    },
    {
      timeoutMs: opts.timeoutMs,
      intervalMs: opts.intervalMs,
      timedOut: () => new Error(`${opts.timedOut()}\nSerial console tail:\n${vm.tail(40)}`),
    },
  );
}

export async function waitForSelftest(vm: Vm, timeoutMs: number): Promise<SelftestReport> {
  const file = vm.portLogs[SELFTEST_PORT];
  if (!file) throw new Error("the VM was started without the self-test port");
  return untilGuestShows(
    vm,
    "the self-test reported",
    () => parseSelftest(existsSync(file) ? readFileSync(file, "utf8") : "") ?? undefined,
    { timeoutMs, intervalMs: 1000, timedOut: () => `No self-test report after ${timeoutMs / 1000} s.` },
  );
}

export interface ConsoleInfo {
  url: string;
  setupCode: string;
  certSha256: string;
}

/** What the console shows a new owner: the wizard's URL, the setup code, the certificate fingerprint. */
export function consoleInfo(serial: string): ConsoleInfo | null {
  const url = /Open in a browser on your network:\s*\n\s*(https:\/\/\S+)/.exec(serial)?.[1];
  const setupCode = /Setup code:\s+([0-9A-Z]{4}(?:-[0-9A-Z]{4}){3})/.exec(serial)?.[1];
  const certSha256 = /fingerprint[^\n]*\n\s*((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(serial)?.[1];
  return url && setupCode && certSha256 ? { url, setupCode, certSha256 } : null;
}

export async function waitForConsoleInfo(
  vm: Pick<Vm, "serialText" | "dead" | "tail">,
  timeoutMs: number,
): Promise<ConsoleInfo> {
  return untilGuestShows(
    vm,
    "the console showed the URL, setup code and fingerprint",
    () => consoleInfo(vm.serialText()) ?? undefined,
    {
      timeoutMs,
      intervalMs: 1000,
      timedOut: () => "The console does not show the URL, setup code and fingerprint.",
    },
  );
}

export interface HttpsAnswer {
  status: number;
  location: string | undefined;
  body: string;
  certSha256: string;
}

/**
 * One HTTPS GET to the guest's forwarded port. The certificate is self-signed, so instead of the
 * CA check we return its fingerprint for the caller to compare with what the console printed.
 * `timeoutMs` bounds the wait for the answer once the TLS handshake is done; `handshakeTimeoutMs`
 * (by default the same) bounds the handshake.
 */
export function httpsGet(
  port: number,
  pathname: string,
  timeoutMs = 10_000,
  host = "freehold.local",
  handshakeTimeoutMs = timeoutMs,
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.get(
      {
        host: "127.0.0.1",
        port,
        path: pathname,
        rejectUnauthorized: false,
        agent: false,
        headers: { host },
      },
      (res) => {
        const cert = (res.socket as import("node:tls").TLSSocket).getPeerCertificate();
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            body,
            certSha256: cert.fingerprint256,
          });
        });
      },
    );
    let timer = setTimeout(() => req.destroy(new Error("timeout (no TLS handshake)")), handshakeTimeoutMs);
    req.on("socket", (socket) =>
      socket.once("secureConnect", () => {
        clearTimeout(timer);
        timer = setTimeout(() => req.destroy(new Error("timeout")), timeoutMs);
      }),
    );
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * How long one request may take once the guest accepted it. The first page after start-up takes
 * about 10 s under TCG (its code loads then); a browser waits for it, so the poll does too: giving
 * up after a few seconds and asking again only queued a second render behind the first one and
 * made the first 200 later than a browser would see it.
 */
export const WIZARD_ANSWER_TIMEOUT_MS = 90_000;
/**
 * The handshake stays short: QEMU's user-mode forward accepts on the host at once and only then
 * connects in the guest, and while the guest's network is still coming up that connection hangs in
 * SYN retries instead of failing. Waiting there would miss the moment the app starts listening by up
 * to the retry's back-off, so such a connection is dropped and the poll asks again.
 */
const WIZARD_HANDSHAKE_TIMEOUT_MS = 5000;

/** Polls until the wizard answers 200 (following one redirect), or throws with the console's tail. */
/** `host`: the name the box answers to (freehold.local until the owner renames it). */
export async function waitForWizard(
  vm: Pick<Vm, "tail" | "dead">,
  port: number,
  timeoutMs: number,
  host = "freehold.local",
): Promise<HttpsAnswer> {
  let last = "no answer yet";
  const deadline = Date.now() + timeoutMs;
  const answerTimeout = () => Math.max(1000, Math.min(WIZARD_ANSWER_TIMEOUT_MS, deadline - Date.now()));
  return untilGuestShows(
    vm,
    () => `the wizard answered (last: ${last})`,
    async () => {
      try {
        let answer = await httpsGet(port, "/", answerTimeout(), host, WIZARD_HANDSHAKE_TIMEOUT_MS);
        if (answer.status >= 300 && answer.status < 400 && answer.location) {
          answer = await httpsGet(
            port,
            new URL(answer.location, `https://${host}`).pathname,
            answerTimeout(),
            host,
            WIZARD_HANDSHAKE_TIMEOUT_MS,
          );
        }
        if (answer.status === 200) return answer;
        last = `HTTP ${answer.status}`;
      } catch (error) {
        last = (error as Error).message;
      }
      return undefined;
    },
    {
      timeoutMs,
      intervalMs: 500,
      timedOut: () => `The wizard did not answer within ${timeoutMs / 1000} s (last: ${last}).`,
    },
  );
}
