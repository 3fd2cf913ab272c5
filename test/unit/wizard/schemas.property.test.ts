import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClaimSchema, LoginSchema, SshPublicKeySchema, UsernameSchema } from "../../../app/_schemas/auth";
import { OP_NAMES, OpInputSchemas, PlanStepInputSchema } from "../../../app/_schemas/ops";
import { ConfirmKitSchema, DraftUpdateSchema, RetrySchema } from "../../../app/_schemas/wizard";

// Every route handler parses its body with one of these; malformed bodies must be refused, never
// half-accepted, and parsing must never throw.
const HANDLER_SCHEMAS = {
  claim: ClaimSchema,
  login: LoginSchema,
  draft: DraftUpdateSchema,
  kit: ConfirmKitSchema,
  retry: RetrySchema,
} as const;

const anyJson = fc.jsonValue({ maxDepth: 4 });

describe("route handler schemas (property-based)", () => {
  it.each(Object.entries(HANDLER_SCHEMAS))(
    "%s: never throws, and refuses arbitrary JSON",
    (_name, schema) => {
      fc.assert(
        fc.property(anyJson, (value) => {
          const parsed = schema.safeParse(value);
          // Random JSON practically never is a valid body; when it is, it must be an object.
          if (parsed.success) expect(typeof parsed.data).toBe("object");
        }),
        { numRuns: 500 },
      );
    },
  );

  it("claim: refuses a valid body with any one field replaced by a wrong type or an extra key", () => {
    const valid = { code: "ABCD-EFGH-JKLM-NPQR", username: "alice", password: "p", passwordConfirm: "p" };
    expect(ClaimSchema.safeParse(valid).success).toBe(true);
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(valid)),
        fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.object()),
        (key, bad) => {
          expect(ClaimSchema.safeParse({ ...valid, [key]: bad }).success).toBe(false);
        },
      ),
    );
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !(k in valid) && k !== "sshPublicKey"),
        anyJson,
        (key, value) => {
          expect(ClaimSchema.safeParse({ ...valid, [key]: value }).success).toBe(false);
        },
      ),
    );
  });

  it("retry: only small non-negative integers", () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.integer(), fc.string()), (position) => {
        const ok = RetrySchema.safeParse({ position }).success;
        expect(ok).toBe(
          Number.isInteger(position) && (position as number) >= 0 && (position as number) <= 1000,
        );
      }),
    );
  });

  it("user names: never a reserved or malformed Unix name", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (name) => {
        const parsed = UsernameSchema.safeParse(name);
        if (parsed.success) {
          expect(parsed.data).toMatch(/^[a-z][a-z0-9_-]{1,30}$/);
          expect(["root", "freehold", "sshd"]).not.toContain(parsed.data);
        }
      }),
    );
    expect(UsernameSchema.safeParse("root").success).toBe(false);
    expect(UsernameSchema.safeParse("-rf").success).toBe(false);
  });

  it("SSH keys: a real ed25519 line passes; anything with a newline or a mismatched type does not", () => {
    const blob = Buffer.concat([
      Buffer.from([0, 0, 0, 11]),
      Buffer.from("ssh-ed25519"),
      Buffer.from([0, 0, 0, 32]),
      Buffer.alloc(32, 7),
    ]);
    const line = `ssh-ed25519 ${blob.toString("base64")} me@laptop`;
    expect(SshPublicKeySchema.safeParse(line).success).toBe(true);
    expect(SshPublicKeySchema.safeParse(line.replace("ssh-ed25519 ", "ssh-rsa ")).success).toBe(false);
    expect(SshPublicKeySchema.safeParse(`${line}\nssh-ed25519 ${blob.toString("base64")}`).success).toBe(
      false,
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        SshPublicKeySchema.safeParse(s);
      }),
    );
  });

  it("plan steps: every op has a schema, and inputs with unknown keys are refused", () => {
    expect(OP_NAMES.length).toBeGreaterThanOrEqual(9);
    for (const op of OP_NAMES) {
      expect(PlanStepInputSchema.safeParse({ op, input: { surprise: true } }).success).toBe(false);
      expect(OpInputSchemas[op]).toBeDefined();
    }
    expect(
      PlanStepInputSchema.safeParse({ op: "shell.run", input: { argv: ["rm", "-rf", "/"] } }).success,
    ).toBe(false);
  });
});
