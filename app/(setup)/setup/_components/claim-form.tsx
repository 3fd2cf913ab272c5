"use client";
import { useEffect, useState } from "react";
import { FieldError, FormError, useSubmit } from "./submit";

/** The claim: setup code (from the console, or the QR code's #code=… fragment) and the owner account. */
export function ClaimForm() {
  const { pending, message, fields, submit } = useSubmit("/api/setup/claim");
  const [code, setCode] = useState("");
  useEffect(() => {
    // The fragment never reaches the server or its logs; clear it from the address bar too.
    const match = /(?:^#|&)code=([A-Za-z0-9-]{16,24})/.exec(window.location.hash);
    if (match?.[1]) {
      setCode(match[1]);
      history.replaceState(null, "", window.location.pathname);
    }
  }, []);
  return (
    <form
      method="post"
      aria-label="Claim this box"
      onSubmit={(event) => {
        event.preventDefault();
        const form = new FormData(event.currentTarget);
        void submit({
          code: String(form.get("code") ?? ""),
          username: String(form.get("username") ?? ""),
          password: String(form.get("password") ?? ""),
          passwordConfirm: String(form.get("passwordConfirm") ?? ""),
          sshPublicKey: String(form.get("sshPublicKey") ?? ""),
        });
      }}
    >
      <label htmlFor="code">Setup code</label>
      <input
        id="code"
        name="code"
        autoComplete="off"
        spellCheck={false}
        required
        placeholder="ABCD-EFGH-JKLM-NPQR"
        value={code}
        onChange={(e) => setCode(e.target.value)}
        aria-describedby="code-help code-error"
      />
      <span id="code-help" className="help">
        Shown on the box's screen (or its serial console) next to the certificate fingerprint.
      </span>
      <FieldError fields={fields} name="code" />

      <label htmlFor="username">User name</label>
      <input
        id="username"
        name="username"
        autoComplete="username"
        required
        aria-describedby="username-help username-error"
      />
      <span id="username-help" className="help">
        Also your account on the box for SSH and the terminal: lower-case letters, digits, - and _.
      </span>
      <FieldError fields={fields} name="username" />

      <label htmlFor="password">Password</label>
      <input
        id="password"
        name="password"
        type="password"
        autoComplete="new-password"
        required
        minLength={12}
        aria-describedby="password-help password-error"
      />
      <span id="password-help" className="help">
        At least 12 characters; a few unrelated words are easy to remember and hard to guess.
      </span>
      <FieldError fields={fields} name="password" />

      <label htmlFor="passwordConfirm">Password again</label>
      <input
        id="passwordConfirm"
        name="passwordConfirm"
        type="password"
        autoComplete="new-password"
        required
      />
      <FieldError fields={fields} name="passwordConfirm" />

      <label htmlFor="sshPublicKey">SSH public key (optional)</label>
      <textarea
        id="sshPublicKey"
        name="sshPublicKey"
        rows={3}
        spellCheck={false}
        placeholder="ssh-ed25519 AAAA… you@laptop"
      />
      <span className="help">With a key, SSH accepts keys only; without, your password.</span>
      <FieldError fields={fields} name="sshPublicKey" />

      <FormError message={message} />
      <button type="submit" disabled={pending}>
        {pending ? "Claiming…" : "Claim this box"}
      </button>
    </form>
  );
}
