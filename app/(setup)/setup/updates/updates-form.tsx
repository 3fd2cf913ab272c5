"use client";
import type { UpdatesChoice } from "../../../_schemas/wizard";
import { FormError, useSubmit } from "../_components/submit";

export function UpdatesForm({ initial }: { initial: UpdatesChoice }) {
  const { pending, message, submit } = useSubmit("/api/setup/draft", "PUT");
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        void submit({
          section: "updates",
          value: {
            security: f.get("security") === "notify" ? "notify" : "automatic",
            reboot: f.get("reboot") === "never" ? "never" : "window",
            rebootTime: String(f.get("rebootTime") ?? "04:00"),
            apps: f.get("apps") === "automatic" ? "automatic" : "manual",
          },
        });
      }}
    >
      <label htmlFor="security">Security updates</label>
      <select id="security" name="security" defaultValue={initial.security}>
        <option value="automatic">Install automatically</option>
        <option value="notify">Only tell me on the dashboard</option>
      </select>
      <label htmlFor="reboot">Reboots a kernel update needs</label>
      <select id="reboot" name="reboot" defaultValue={initial.reboot}>
        <option value="window">At a set time</option>
        <option value="never">Never by themselves</option>
      </select>
      <label htmlFor="rebootTime">Reboot time</label>
      <input id="rebootTime" name="rebootTime" type="time" defaultValue={initial.rebootTime} />
      <label htmlFor="apps">Node and model updates</label>
      <select id="apps" name="apps" defaultValue={initial.apps}>
        <option value="manual">I update them from the dashboard</option>
        <option value="automatic">Automatically</option>
      </select>
      <p className="help">
        An encrypted disk needs your passphrase after every reboot; the dashboard asks for it.
      </p>
      <FormError message={message} />
      <button type="submit" disabled={pending}>
        Continue
      </button>
    </form>
  );
}
