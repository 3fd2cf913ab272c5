import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, GuestDiedError, retryOnKernelPanic } from "../../../image/vm/qemu";
import { waitForConsoleInfo, waitForWizard } from "../../vm/guest";
import { selfSignedPair } from "../http/self-signed";

const dir = mkdtempSync(path.join(tmpdir(), "freehold-wait-wizard-"));
const console = { tail: () => "[console tail]", dead: () => undefined };
let server: https.Server;
let port = 0;
const requests: string[] = [];

beforeAll(async () => {
  const { key, cert } = selfSignedPair(dir, "freehold.local");
  // Like the web app's first page under TCG: the first answer takes longer than the old 5 s poll.
  server = https.createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    requests.push(req.url ?? "");
    const delay = requests.length === 1 ? 5500 : 0;
    setTimeout(() => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<h1>Freehold</h1>");
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe("waitForWizard (the time-to-wizard poll)", () => {
  it("waits for a slow first answer instead of abandoning it and asking again", async () => {
    const started = Date.now();
    const answer = await waitForWizard(console, port, 30_000);
    expect(answer.status).toBe(200);
    expect(answer.body).toContain("Freehold");
    // One request: a retry would have queued a second render behind the first.
    expect(requests).toEqual(["/"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(5400);
  }, 20_000);

  it("drops a connection that never gets to the TLS handshake and tries again", async () => {
    // QEMU's user-mode forward accepts on the host before the guest can answer; the first such
    // connection here hangs (as in SYN retries), the next ones reach the server.
    requests.length = 0;
    let connections = 0;
    const held: net.Socket[] = [];
    const forward = net.createServer((socket) => {
      if (++connections === 1) {
        held.push(socket);
        return;
      }
      const upstream = net.connect(port, "127.0.0.1");
      socket.pipe(upstream).pipe(socket);
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => forward.listen(0, "127.0.0.1", resolve));
    try {
      const started = Date.now();
      const answer = await waitForWizard(console, (forward.address() as AddressInfo).port, 60_000);
      expect(answer.status).toBe(200);
      expect(connections).toBe(2);
      // The handshake limit (5 s), not the 90 s answer limit, ended the held connection.
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => forward.close(() => resolve()));
    }
  }, 30_000);

  it("keeps polling while nothing listens and then names what it last saw, with the console's tail", async () => {
    const closed = await freePort();
    await expect(waitForWizard(console, closed, 1500)).rejects.toThrow(
      /did not answer within 1\.5 s \(last: .*ECONNREFUSED.*\)\.\nSerial console tail:\n\[console tail\]/,
    );
  });

  it("gives up at once when the guest died, saying how", async () => {
    const closed = await freePort();
    const panicked = {
      tail: () => "Kernel panic - not syncing: Fatal exception in interrupt",
      dead: () => ({ reason: "the guest's kernel panicked", kernelPanic: true }),
    };
    const started = Date.now();
    const failure = await waitForWizard(panicked, closed, 60_000).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GuestDiedError);
    expect((failure as GuestDiedError).message).toMatch(
      /^the guest's kernel panicked before the wizard answered \(last: .*ECONNREFUSED.*\)\.\n[\s\S]*Fatal exception/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("waitForConsoleInfo", () => {
  it("gives up at once when the guest died before the console showed the wizard's details", async () => {
    const exited = {
      serialText: () => "Welcome to Debian\n",
      tail: () => "Welcome to Debian",
      dead: () => ({ reason: "QEMU exited (code 1)", kernelPanic: false }),
    };
    const started = Date.now();
    await expect(waitForConsoleInfo(exited, 60_000)).rejects.toThrow(
      /^QEMU exited \(code 1\) before the console showed the URL, setup code and fingerprint\./,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe("retryOnKernelPanic", () => {
  const panic = () =>
    new GuestDiedError("panicked", { reason: "the guest's kernel panicked", kernelPanic: true });

  it("boots once more after a kernel panic, and only once", async () => {
    let boots = 0;
    const answer = await retryOnKernelPanic("test", async () => {
      boots++;
      if (boots === 1) throw panic();
      return "up";
    });
    expect(answer).toBe("up");
    expect(boots).toBe(2);

    boots = 0;
    await expect(
      retryOnKernelPanic("test", async () => {
        boots++;
        throw panic();
      }),
    ).rejects.toThrow("panicked");
    expect(boots).toBe(2);
  });

  it("does not retry other failures", async () => {
    let boots = 0;
    const exited = new GuestDiedError("exited", { reason: "QEMU exited (code 1)", kernelPanic: false });
    await expect(
      retryOnKernelPanic("test", async () => {
        boots++;
        throw exited;
      }),
    ).rejects.toBe(exited);
    expect(boots).toBe(1);
  });
});
