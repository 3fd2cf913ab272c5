"use client";
import { useState } from "react";
import type { StoredBackups } from "../../../_schemas/wizard";
import { FieldError, FormError, useSubmit } from "../_components/submit";

type Kind = StoredBackups["target"]["kind"];

export function BackupsForm(props: {
  usb: { path: string; label: string }[];
  initial: StoredBackups | null;
}) {
  const [kind, setKind] = useState<Kind>(props.initial?.target.kind ?? "none");
  const { pending, message, fields, submit } = useSubmit("/api/setup/draft", "PUT");
  const t = props.initial?.target;
  const str = (form: FormData, name: string) => String(form.get(name) ?? "").trim();
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.currentTarget);
        const target =
          kind === "usb"
            ? { kind, device: str(f, "usbDisk") }
            : kind === "sftp"
              ? {
                  kind,
                  host: str(f, "sftpHost"),
                  port: Number(str(f, "sftpPort") || 22),
                  user: str(f, "sftpUser"),
                  path: str(f, "sftpPath"),
                  knownHostKey: str(f, "sftpHostKey"),
                }
              : kind === "rest"
                ? { kind, url: str(f, "restUrl") }
                : kind === "s3"
                  ? {
                      kind,
                      endpoint: str(f, "s3Endpoint"),
                      bucket: str(f, "s3Bucket"),
                      accessKeyId: str(f, "s3AccessKeyId"),
                      secretAccessKey: str(f, "s3Secret") || undefined,
                    }
                  : { kind: "none" };
        void submit({
          section: "backups",
          value: {
            target,
            schedule: {
              frequency: str(f, "frequency") === "weekly" ? "weekly" : "daily",
              time: str(f, "time"),
            },
            retention: {
              daily: Number(str(f, "daily")),
              weekly: Number(str(f, "weekly")),
              monthly: Number(str(f, "monthly")),
            },
            checkMonthly: f.get("checkMonthly") === "on",
            formatUsb: kind === "usb" && f.get("formatUsb") === "on",
          },
        });
      }}
    >
      <fieldset>
        <legend>Where to</legend>
        {(
          [
            ["none", "No backups for now"],
            ["usb", "A USB disk plugged into the box"],
            ["sftp", "Another computer over SFTP"],
            ["rest", "A restic REST server"],
            ["s3", "S3-compatible storage"],
          ] as const
        ).map(([value, label]) => (
          <label className="option" key={value}>
            <input
              type="radio"
              name="kind"
              value={value}
              checked={kind === value}
              onChange={() => setKind(value)}
            />{" "}
            {label}
          </label>
        ))}
      </fieldset>
      {kind === "usb" &&
        (props.usb.length === 0 ? (
          <p role="alert">No USB disk is plugged in. Plug one in and reload, or choose another target.</p>
        ) : (
          <>
            <label htmlFor="usbDisk">USB disk</label>
            <select id="usbDisk" name="usbDisk">
              {props.usb.map((d) => (
                <option key={d.path} value={d.path}>
                  {d.label}
                </option>
              ))}
            </select>
            <label className="option">
              <input type="checkbox" name="formatUsb" defaultChecked={props.initial?.formatUsb ?? false} />{" "}
              Format it for backups (ext4) if it is blank. A disk with any filesystem or partitions on it is
              never touched.
            </label>
          </>
        ))}
      {kind === "sftp" && (
        <>
          <label htmlFor="sftpHost">Host</label>
          <input id="sftpHost" name="sftpHost" required defaultValue={t?.kind === "sftp" ? t.host : ""} />
          <label htmlFor="sftpPort">Port</label>
          <input
            id="sftpPort"
            name="sftpPort"
            type="number"
            min={1}
            max={65535}
            defaultValue={t?.kind === "sftp" ? t.port : 22}
          />
          <label htmlFor="sftpUser">User</label>
          <input id="sftpUser" name="sftpUser" required defaultValue={t?.kind === "sftp" ? t.user : ""} />
          <label htmlFor="sftpPath">Path</label>
          <input
            id="sftpPath"
            name="sftpPath"
            required
            defaultValue={t?.kind === "sftp" ? t.path : "freehold-backup"}
          />
          <label htmlFor="sftpHostKey">Server's SSH host key</label>
          <textarea
            id="sftpHostKey"
            name="sftpHostKey"
            required
            rows={2}
            placeholder="nas.lan ssh-ed25519 AAAA..."
            defaultValue={t?.kind === "sftp" ? t.knownHostKey : ""}
          />
          <p className="help">
            Run <code>ssh-keyscan -t ed25519 HOST</code> on a computer you trust and paste its line: the box
            connects only to a server with this key. The box makes its own SSH key for this; if the server
            refuses it, the apply step shows the line to add to the server's authorized_keys.
          </p>
        </>
      )}
      {kind === "rest" && (
        <>
          <label htmlFor="restUrl">Server URL</label>
          <input
            id="restUrl"
            name="restUrl"
            type="url"
            required
            defaultValue={t?.kind === "rest" ? t.url : "https://"}
          />
        </>
      )}
      {kind === "s3" && (
        <>
          <label htmlFor="s3Endpoint">Endpoint (https)</label>
          <input
            id="s3Endpoint"
            name="s3Endpoint"
            type="url"
            required
            defaultValue={t?.kind === "s3" ? t.endpoint : "https://"}
          />
          <label htmlFor="s3Bucket">Bucket</label>
          <input id="s3Bucket" name="s3Bucket" required defaultValue={t?.kind === "s3" ? t.bucket : ""} />
          <label htmlFor="s3AccessKeyId">Access key id</label>
          <input
            id="s3AccessKeyId"
            name="s3AccessKeyId"
            required
            defaultValue={t?.kind === "s3" ? t.accessKeyId : ""}
          />
          <label htmlFor="s3Secret">
            Secret access key{t?.kind === "s3" ? " (saved; leave empty to keep it)" : ""}
          </label>
          <input id="s3Secret" name="s3Secret" type="password" autoComplete="off" />
        </>
      )}
      {Object.keys(fields).length > 0 && (
        <ul className="field-error" role="alert">
          {Object.entries(fields).map(([k, v]) => (
            <li key={k}>
              {k.replace(/^value\./, "")}: {v.join(" ")}
            </li>
          ))}
        </ul>
      )}
      <fieldset>
        <legend>When</legend>
        <label htmlFor="frequency">How often</label>
        <select id="frequency" name="frequency" defaultValue={props.initial?.schedule.frequency ?? "daily"}>
          <option value="daily">Every day</option>
          <option value="weekly">Every week</option>
        </select>
        <label htmlFor="time">At</label>
        <input
          id="time"
          name="time"
          type="time"
          required
          defaultValue={props.initial?.schedule.time ?? "03:30"}
        />
      </fieldset>
      <fieldset>
        <legend>Keep</legend>
        <label htmlFor="daily">Daily snapshots</label>
        <input
          id="daily"
          name="daily"
          type="number"
          min={0}
          max={365}
          defaultValue={props.initial?.retention.daily ?? 7}
        />
        <label htmlFor="weekly">Weekly snapshots</label>
        <input
          id="weekly"
          name="weekly"
          type="number"
          min={0}
          max={104}
          defaultValue={props.initial?.retention.weekly ?? 5}
        />
        <label htmlFor="monthly">Monthly snapshots</label>
        <input
          id="monthly"
          name="monthly"
          type="number"
          min={0}
          max={120}
          defaultValue={props.initial?.retention.monthly ?? 12}
        />
      </fieldset>
      <label className="option">
        <input type="checkbox" name="checkMonthly" defaultChecked={props.initial?.checkMonthly ?? true} />{" "}
        Check the backups every month with a test restore
      </label>
      <FieldError fields={fields} name="_" />
      <FormError message={message} />
      <button type="submit" disabled={pending}>
        Continue
      </button>
    </form>
  );
}
