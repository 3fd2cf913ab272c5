import http from "node:http";
import { expect, test } from "@playwright/test";

// The security matrix against the real server (standalone build, preview mode). These requests
// never claim the box: the wizard spec does that, after this file.
test.skip(({ baseURL }) => !baseURL?.endsWith(":3310"), "runs against the standalone build only");

const PORT = 3310;
const ORIGIN = `http://127.0.0.1:${PORT}`;

function raw(options: { method: string; path: string; headers: Record<string, string>; body?: string }) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: PORT, ...options }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

const claimBody = JSON.stringify({
  code: "AAAA-AAAA-AAAA-AAAA",
  username: "mallory",
  password: "maple river lantern 42",
  passwordConfirm: "maple river lantern 42",
});

test("a state-changing request without an Origin is refused", async () => {
  const r = await raw({
    method: "POST",
    path: "/api/setup/claim",
    headers: { host: `127.0.0.1:${PORT}`, "content-type": "application/json" },
    body: claimBody,
  });
  expect(r.status).toBe(403);
  expect(r.body).toMatch(/Origin/);
});

test("a foreign Origin is refused, and so is a matching one over the wrong scheme", async () => {
  for (const origin of ["http://evil.example", "https://127.0.0.1:3310", "null", `${ORIGIN}.evil.example`]) {
    const r = await raw({
      method: "POST",
      path: "/api/setup/claim",
      headers: { host: `127.0.0.1:${PORT}`, origin, "content-type": "application/json" },
      body: claimBody,
    });
    expect(r.status, origin).toBe(403);
  }
});

test("a Host outside the allowlist is refused (DNS rebinding), on GET too", async () => {
  for (const host of ["evil.example", "evil.example:3310", "freehold.local.evil.example"]) {
    const r = await raw({ method: "GET", path: "/", headers: { host } });
    expect(r.status, host).toBe(421);
  }
  const ok = await raw({ method: "GET", path: "/", headers: { host: `localhost:${PORT}` } });
  expect(ok.status).toBe(200);
});

test("a cross-site form post with text/plain from another site is refused", async ({ page }) => {
  // The attacker's page, on another origin, posts a form that smuggles JSON in text/plain.
  const attacker = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html" });
    res.end(`<form method="POST" action="${ORIGIN}/api/setup/claim" enctype="text/plain">
      <input name='{"code":"AAAA-AAAA-AAAA-AAAA","username":"mallory","password":"maple river lantern 42","passwordConfirm":"maple river lantern 42","x":"' value='"}'>
      </form><script>document.forms[0].submit()</script>`);
  });
  await new Promise<void>((r) => attacker.listen(3398, "127.0.0.1", r));
  try {
    const response = page.waitForResponse((r) => r.url().endsWith("/api/setup/claim"));
    await page.goto("http://127.0.0.1:3398/");
    const answered = await response;
    expect(answered.status()).toBe(403);
  } finally {
    attacker.close();
  }
  // Even with our own Origin, text/plain is not accepted by the handlers.
  const sameOrigin = await raw({
    method: "POST",
    path: "/api/setup/claim",
    headers: { host: `127.0.0.1:${PORT}`, origin: ORIGIN, "content-type": "text/plain" },
    body: claimBody,
  });
  expect(sameOrigin.status).toBe(415);
});

test("malformed claim bodies are refused with the fields named, before any code is checked", async ({
  request,
}) => {
  for (const data of [
    "{",
    "[]",
    '{"code":1}',
    '{"code":"x","username":"root","password":"p","passwordConfirm":"p"}',
  ]) {
    const r = await request.post("/api/setup/claim", {
      headers: { origin: ORIGIN, "content-type": "application/json" },
      data,
    });
    expect([400, 422], data).toContain(r.status());
  }
  const big = await raw({
    method: "POST",
    path: "/api/setup/claim",
    headers: { host: `127.0.0.1:${PORT}`, origin: ORIGIN, "content-type": "application/json" },
    body: JSON.stringify({ code: "x".repeat(300_000) }),
  });
  expect(big.status).toBe(413);
});

test("a wrong setup code is refused", async ({ request }) => {
  const r = await request.post("/api/setup/claim", {
    headers: { origin: ORIGIN },
    data: JSON.parse(claimBody),
  });
  expect(r.status()).toBe(403);
  expect((await r.json()).error).toBe("bad-code");
});

test("every page carries the CSP with a fresh nonce and frame-ancestors 'none'", async ({ request }) => {
  const a = (await request.get("/setup")).headers()["content-security-policy"] ?? "";
  const b = (await request.get("/setup")).headers()["content-security-policy"] ?? "";
  expect(a).toContain("frame-ancestors 'none'");
  expect(a).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(a).not.toBe(b);
  expect(a).not.toMatch(/script-src[^;]*unsafe-inline/);
});

test("setup routes that need the owner refuse anonymous callers", async ({ request }) => {
  for (const [method, path] of [
    ["PUT", "/api/setup/draft"],
    ["POST", "/api/setup/plan"],
    ["POST", "/api/setup/kit"],
    ["POST", "/api/setup/retry"],
  ] as const) {
    const r = await request.fetch(path, { method, headers: { origin: ORIGIN }, data: {} });
    expect(r.status(), path).toBe(401);
  }
  const page = await request.get("/setup/nodes", { maxRedirects: 0 });
  expect([303, 307]).toContain(page.status());
});
