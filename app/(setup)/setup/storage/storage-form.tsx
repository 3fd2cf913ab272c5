"use client";
import { useState } from "react";
import { formatBytes } from "../../../lib/format";
import type { StorageDisk } from "../../../lib/storage/disks";
import { FieldError, FormError, useSubmit } from "../_components/submit";

export function StorageForm(props: {
  disks: StorageDisk[];
  initial: { disk: string; encrypt: boolean; tpmUnlock?: boolean } | null;
  /** This box has a TPM 2.0: offer automatic unlock. */
  tpm: boolean;
}) {
  const [disk, setDisk] = useState(props.initial?.disk ?? "system");
  const [encrypt, setEncrypt] = useState(props.initial?.encrypt ?? true);
  const [tpmUnlock, setTpmUnlock] = useState(props.initial?.tpmUnlock ?? false);
  const { pending, message, fields, submit } = useSubmit("/api/setup/draft", "PUT");
  const selected = props.disks.find((d) => d.path === disk);
  return (
    <form
      method="post"
      onSubmit={(e) => {
        e.preventDefault();
        const form = new FormData(e.currentTarget);
        void submit({
          section: "storage",
          value: {
            disk,
            encrypt,
            confirmErase: String(form.get("confirmErase") ?? ""),
            tpmUnlock: encrypt && props.tpm && tpmUnlock,
            ...(encrypt
              ? {
                  passphrase: String(form.get("passphrase") ?? ""),
                  passphraseConfirm: String(form.get("passphraseConfirm") ?? ""),
                }
              : {}),
          },
        });
      }}
    >
      <fieldset>
        <legend>Data disk</legend>
        <label className="option">
          <input
            type="radio"
            name="disk"
            value="system"
            checked={disk === "system"}
            onChange={() => setDisk("system")}
          />{" "}
          The free space on the system disk (prepared at first boot)
        </label>
        {props.disks.map((d) => (
          <label className="option" key={d.path}>
            <input
              type="radio"
              name="disk"
              value={d.path}
              checked={disk === d.path}
              onChange={() => setDisk(d.path)}
            />{" "}
            {d.model ?? "Disk"} {d.path}, {formatBytes(d.sizeBytes)}
            {d.removable ? ", removable" : ""}:{" "}
            {d.contents === "data" ? <strong>holds data ({d.summary})</strong> : d.summary}
          </label>
        ))}
        <FieldError fields={fields} name="disk" />
      </fieldset>
      {selected?.contents === "data" && (
        <div className="danger" role="alert">
          <p>
            <strong>Everything on {selected.path} will be erased.</strong> It holds {selected.summary}. Type{" "}
            <code>{selected.name}</code> to confirm.
          </p>
          <label htmlFor="confirmErase">Type the disk's name to erase it</label>
          <input id="confirmErase" name="confirmErase" autoComplete="off" spellCheck={false} />
          <FieldError fields={fields} name="confirmErase" />
        </div>
      )}
      <label className="option">
        <input type="checkbox" checked={encrypt} onChange={(e) => setEncrypt(e.target.checked)} /> Encrypt the
        data (LUKS2; recommended)
      </label>
      {encrypt ? (
        <>
          <p className="help">
            The passphrase unlocks the data after a reboot (from this page). A recovery key is also made; you
            will save it in the recovery kit.
          </p>
          <label htmlFor="passphrase">Disk passphrase</label>
          <input
            id="passphrase"
            name="passphrase"
            type="password"
            autoComplete="new-password"
            minLength={12}
            required
          />
          <FieldError fields={fields} name="passphrase" />
          <label htmlFor="passphraseConfirm">Disk passphrase again</label>
          <input
            id="passphraseConfirm"
            name="passphraseConfirm"
            type="password"
            autoComplete="new-password"
            required
          />
          <FieldError fields={fields} name="passphraseConfirm" />
          {props.tpm && (
            <>
              <label className="option">
                <input type="checkbox" checked={tpmUnlock} onChange={(e) => setTpmUnlock(e.target.checked)} />{" "}
                Unlock automatically at boot with this box's TPM
              </label>
              <p className="help">
                The data then opens by itself after a reboot, on this box only: a disk taken out of it stays
                locked, but someone who takes the whole box can read it. The TPM refuses after a firmware
                change; then you unlock with the passphrase as usual.
              </p>
              <FieldError fields={fields} name="tpmUnlock" />
            </>
          )}
        </>
      ) : (
        <p className="danger">Without encryption, anyone who takes the disk can read it.</p>
      )}
      <FormError message={message} />
      <button type="submit" disabled={pending}>
        Continue
      </button>
    </form>
  );
}
