"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";

export function LoginForm({ next }: { next: string }) {
  const router = useRouter();
  const [message, setMessage] = useState<string | null>(null);
  const [pending, setPending] = useState(false);
  return (
    <form
      method="post"
      aria-label="Sign in"
      onSubmit={async (e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        setPending(true);
        const response = await fetch("/api/auth/login", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            username: f.get("username"),
            password: f.get("password"),
            totp: f.get("totp") ?? "",
          }),
        }).catch(() => null);
        setPending(false);
        const data = (await response?.json().catch(() => null)) as { ok?: boolean; message?: string } | null;
        if (response?.ok && data?.ok) router.push(next);
        else setMessage(data?.message ?? "The box did not answer.");
      }}
    >
      <label htmlFor="username">User name</label>
      <input id="username" name="username" autoComplete="username" required />
      <label htmlFor="password">Password</label>
      <input id="password" name="password" type="password" autoComplete="current-password" required />
      <label htmlFor="totp">Code from your authenticator app (if you turned it on)</label>
      <input id="totp" name="totp" inputMode="numeric" autoComplete="one-time-code" pattern="[0-9]{6}" />
      <p className="form-error" role="alert">
        {message ?? ""}
      </p>
      <button type="submit" disabled={pending}>
        Sign in
      </button>
    </form>
  );
}
