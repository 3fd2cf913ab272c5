"use client";
import { useRouter } from "next/navigation";
import { useState } from "react";

export interface SubmitState {
  pending: boolean;
  message: string | null;
  fields: Record<string, string[]>;
}

/** Sends JSON to a route handler and follows its `next`; keeps the error and field messages. */
export function useSubmit(url: string, method: "POST" | "PUT" = "POST") {
  const router = useRouter();
  const [state, setState] = useState<SubmitState>({ pending: false, message: null, fields: {} });
  async function submit(body: unknown): Promise<boolean> {
    setState({ pending: true, message: null, fields: {} });
    try {
      const response = await fetch(url, {
        method,
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        credentials: "same-origin",
      });
      const data = (await response.json().catch(() => ({}))) as {
        ok?: boolean;
        next?: string;
        message?: string;
        fields?: Record<string, string[]>;
      };
      if (!response.ok || !data.ok) {
        // Draft updates nest the step's fields under "value"; the forms name them without it.
        const fields = Object.fromEntries(
          Object.entries(data.fields ?? {}).map(([key, messages]) => [key.replace(/^value\./, ""), messages]),
        );
        setState({ pending: false, message: data.message ?? `The box answered ${response.status}.`, fields });
        return false;
      }
      setState({ pending: false, message: null, fields: {} });
      if (data.next) router.push(data.next);
      else router.refresh();
      return true;
    } catch {
      setState({ pending: false, message: "The box did not answer. Is it still on?", fields: {} });
      return false;
    }
  }
  return { ...state, submit };
}

export function FieldError({ fields, name }: { fields: Record<string, string[]>; name: string }) {
  const messages = fields[name];
  if (!messages?.length) return null;
  return (
    <span className="field-error" id={`${name}-error`} role="alert">
      {messages.join(" ")}
    </span>
  );
}

export function FormError({ message }: { message: string | null }) {
  return (
    <p className="form-error" role="alert" aria-live="assertive">
      {message ?? ""}
    </p>
  );
}
