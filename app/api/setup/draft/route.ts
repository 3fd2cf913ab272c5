import { NextResponse } from "next/server";
import { DraftUpdateSchema, type WizardStepId } from "../../../_schemas/wizard";
import { handler, problem } from "../../../_server/http";
import { readDraft, saveDraftSecret, writeDraft } from "../../../_server/setup";
import { wizardClosed } from "../../../_server/wizard-guard";
import { hasTpm2 } from "../../../lib/hardware/detect";
import { checkStorageChoice, detectStorage } from "../../../lib/storage/disks";

const NEXT: Record<string, WizardStepId> = {
  nodes: "models",
  models: "storage",
  storage: "network",
  network: "backups",
  backups: "updates",
  updates: "review",
};

export const PUT = handler(DraftUpdateSchema, { auth: true }, async (body) => {
  const closed = await wizardClosed();
  if (closed) return closed;
  switch (body.section) {
    case "storage": {
      const check = checkStorageChoice(body.value, await detectStorage());
      if (!check.ok)
        return problem(422, "invalid", "Check the highlighted fields.", { fields: check.fields });
      if (body.value.tpmUnlock && !(await hasTpm2())) {
        return problem(422, "invalid", "Check the highlighted fields.", {
          fields: { tpmUnlock: ["this box has no TPM 2.0 (/dev/tpmrm0)"] },
        });
      }
      if (body.value.encrypt && body.value.passphrase)
        await saveDraftSecret("disk.passphrase", body.value.passphrase);
      await writeDraft("storage", {
        disk: check.disk,
        encrypt: body.value.encrypt,
        erase: check.erase,
        diskLabel: check.diskLabel,
        tpmUnlock: body.value.tpmUnlock,
      });
      break;
    }
    case "backups": {
      const target = body.value.target;
      if (target.kind === "s3") {
        const { secretAccessKey, ...rest } = target;
        if (secretAccessKey) await saveDraftSecret("backup.s3SecretAccessKey", secretAccessKey);
        else if (!(await readDraft()).backups) {
          return problem(422, "invalid", "Enter the secret access key.", {
            fields: { "target.secretAccessKey": ["required"] },
          });
        }
        await writeDraft("backups", { ...body.value, target: rest });
      } else {
        await writeDraft("backups", { ...body.value, target });
      }
      break;
    }
    case "nodes":
      await writeDraft("nodes", { ...body.value, nodes: [...new Set(body.value.nodes)] });
      break;
    case "models":
      await writeDraft("models", body.value);
      break;
    case "network":
      await writeDraft("network", body.value);
      break;
    case "updates":
      await writeDraft("updates", body.value);
      break;
  }
  return NextResponse.json({ ok: true, next: `/setup/${NEXT[body.section]}` });
});
