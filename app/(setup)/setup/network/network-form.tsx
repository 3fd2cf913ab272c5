"use client";
import { useState } from "react";
import { FieldError, FormError, useSubmit } from "../_components/submit";

type Exposure = "off" | "lan" | "internet";
interface NodeItem {
  id: string;
  name: string;
  publicPorts: string[];
  lanPorts: string[];
}

export function NetworkForm(props: {
  nodes: NodeItem[];
  initial: { hostname: string; ssh: "off" | "lan"; exposure: Record<string, Exposure> };
}) {
  const [hostname, setHostname] = useState(props.initial.hostname);
  const [exposure, setExposure] = useState<Record<string, Exposure>>(props.initial.exposure);
  const { pending, message, fields, submit } = useSubmit("/api/setup/draft", "PUT");
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        const full: Record<string, Exposure> = {};
        for (const n of props.nodes) full[n.id] = exposure[n.id] ?? "lan";
        void submit({
          section: "network",
          value: { hostname, ssh: form.get("ssh") === "off" ? "off" : "lan", exposure: full },
        });
      }}
    >
      <label htmlFor="hostname">Name of the box</label>
      <input
        id="hostname"
        name="hostname"
        value={hostname}
        onChange={(e) => setHostname(e.target.value)}
        required
        maxLength={63}
        aria-describedby="hostname-help"
      />
      <span id="hostname-help" className="help">
        Reachable on your network as <code>{hostname || "…"}.local</code>.
      </span>
      <FieldError fields={fields} name="hostname" />

      <fieldset>
        <legend>SSH for your account</legend>
        <label className="option">
          <input type="radio" name="ssh" value="lan" defaultChecked={props.initial.ssh === "lan"} /> From the
          local network
        </label>
        <label className="option">
          <input type="radio" name="ssh" value="off" defaultChecked={props.initial.ssh === "off"} /> Off
        </label>
      </fieldset>

      <fieldset>
        <legend>Who can reach each node</legend>
        <p className="help">This page and the dashboard are only ever reachable from the local network.</p>
        {props.nodes.length === 0 && <p>No nodes chosen.</p>}
        {props.nodes.map((n) => (
          <div key={n.id} className="exposure">
            <label htmlFor={`exposure-${n.id}`}>{n.name}</label>
            <select
              id={`exposure-${n.id}`}
              value={exposure[n.id] ?? "lan"}
              onChange={(e) => setExposure({ ...exposure, [n.id]: e.target.value as Exposure })}
            >
              <option value="lan">Local network only</option>
              <option value="internet" disabled={n.publicPorts.length === 0}>
                Internet too (forward {n.publicPorts.join(", ") || "nothing"} on your router)
              </option>
              <option value="off">Nobody (only this box)</option>
            </select>
          </div>
        ))}
      </fieldset>
      <FormError message={message} />
      <button type="submit" disabled={pending}>
        Continue
      </button>
    </form>
  );
}
