"use client";
import { useState } from "react";
import { FormError, useSubmit } from "../_components/submit";

export function PrintButton() {
  return (
    <button type="button" onClick={() => window.print()}>
      Print the kit
    </button>
  );
}

export function ConfirmKit() {
  const [saved, setSaved] = useState(false);
  const { pending, message, submit } = useSubmit("/api/setup/kit");
  return (
    <form
      method="post"
      className="no-print"
      onSubmit={(e) => {
        e.preventDefault();
        void submit({ confirm: true });
      }}
    >
      <label className="option">
        <input type="checkbox" checked={saved} onChange={(e) => setSaved(e.target.checked)} /> I have printed
        or saved the recovery kit
      </label>
      <FormError message={message} />
      <button type="submit" disabled={!saved || pending}>
        Apply the plan
      </button>
    </form>
  );
}
