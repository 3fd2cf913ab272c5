"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";

async function post(url: string, body: unknown) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json().catch(() => ({}))) as { ok?: boolean; message?: string };
}

export function LogoutButton() {
  const router = useRouter();
  return (
    <button
      type="button"
      onClick={async () => {
        await post("/api/auth/logout", {});
        router.push("/login");
      }}
    >
      Sign out
    </button>
  );
}

export function TotpControls(props: {
  enabled: boolean;
  pendingSecret: string | null;
  qrSvg: string | null;
}) {
  const router = useRouter();
  const [message, setMessage] = useState<string | null>(null);
  const act = async (body: unknown) => {
    const result = await post("/api/auth/totp", body);
    setMessage(result.ok ? null : (result.message ?? "Failed."));
    if (result.ok) router.refresh();
  };
  if (props.enabled) {
    return (
      <form
        method="post"
        onSubmit={(e) => {
          e.preventDefault();
          void act({ action: "disable", password: new FormData(e.currentTarget).get("password") });
        }}
      >
        <p>On: signing in asks for a code from your authenticator app.</p>
        <label htmlFor="totp-off-password">Password (to turn it off)</label>
        <input
          id="totp-off-password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
        />
        <p className="form-error" role="alert">
          {message ?? ""}
        </p>
        <button type="submit">Turn off</button>
      </form>
    );
  }
  if (props.pendingSecret) {
    return (
      <form
        method="post"
        onSubmit={(e) => {
          e.preventDefault();
          void act({ action: "confirm", code: String(new FormData(e.currentTarget).get("code") ?? "") });
        }}
      >
        <p>Scan this with your authenticator app, or type the key.</p>
        {props.qrSvg && (
          // biome-ignore lint/performance/noImgElement: a data: URL made on the server, nothing to optimise
          <img
            className="qr"
            src={props.qrSvg}
            alt="QR code for your authenticator app"
            width={192}
            height={192}
          />
        )}
        <p>
          Key: <code data-testid="totp-secret">{props.pendingSecret}</code>
        </p>
        <label htmlFor="totp-code">The six-digit code it shows</label>
        <input
          id="totp-code"
          name="code"
          inputMode="numeric"
          pattern="[0-9]{6}"
          required
          autoComplete="one-time-code"
        />
        <p className="form-error" role="alert">
          {message ?? ""}
        </p>
        <button type="submit">Turn on</button>
      </form>
    );
  }
  return (
    <>
      <p>Off. With it on, signing in also needs a code from an app on your phone.</p>
      <button type="button" onClick={() => void act({ action: "start" })}>
        Set up two-step sign-in
      </button>
    </>
  );
}
