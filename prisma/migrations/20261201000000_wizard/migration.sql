-- The first-boot wizard: TOTP enrolment and replay guard, plan choices and the recovery-kit gate,
-- the wizard's draft, and secrets held only until the agent has them.

-- AlterTable
ALTER TABLE "Owner" ADD COLUMN "totpPendingSecret" TEXT;
ALTER TABLE "Owner" ADD COLUMN "totpLastStep" INTEGER;

-- AlterTable
ALTER TABLE "Plan" ADD COLUMN "choices" TEXT NOT NULL DEFAULT '{}';
ALTER TABLE "Plan" ADD COLUMN "preview" BOOLEAN NOT NULL DEFAULT true;
ALTER TABLE "Plan" ADD COLUMN "kitConfirmedAt" DATETIME;

-- CreateTable
CREATE TABLE "WizardDraft" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT DEFAULT 1,
    "data" TEXT NOT NULL DEFAULT '{}',
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "PlanSecret" (
    "planId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY ("planId", "name")
);
