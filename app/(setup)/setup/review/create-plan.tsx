"use client";
import { FormError, useSubmit } from "../_components/submit";

export function CreatePlanButton() {
  const { pending, message, submit } = useSubmit("/api/setup/plan");
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        void submit({});
      }}
    >
      <FormError message={message} />
      <button type="submit" disabled={pending}>
        Looks right: make the recovery kit
      </button>
    </form>
  );
}
