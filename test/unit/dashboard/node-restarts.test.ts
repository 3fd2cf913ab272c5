import { describe, expect, it } from "vitest";
import { NodeRestarts, restartFailureMessage } from "../../../app/lib/node-restarts";

/** A run the test finishes by hand, like a slow `systemctl restart`. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("node restarts from the dashboard", () => {
  const clock = () => {
    let t = Date.parse("2025-01-16T10:00:00Z");
    return () => {
      t += 1000;
      return new Date(t);
    };
  };

  it("answers at once with 'restarting' while the slow restart goes on, then keeps its outcome", async () => {
    const restarts = new NodeRestarts(clock());
    const slow = deferred<{ verified: boolean; problems: string | null }>();
    const first = restarts.start("tor", () => slow.promise, String);
    expect(first.started).toBe(true);
    expect(first.restart).toEqual({ id: "tor", state: "restarting", startedAt: "2025-01-16T10:00:01.000Z" });
    expect(restarts.get("tor")?.state).toBe("restarting");
    expect(restarts.get("nostr-relay")).toBeNull();

    // A second request while it runs gets the running restart; nothing else is started.
    let ran = false;
    const second = restarts.start(
      "tor",
      async () => {
        ran = true;
        return { verified: true, problems: null };
      },
      String,
    );
    expect(second.started).toBe(false);
    expect(second.restart).toBe(first.restart);
    expect(ran).toBe(false);

    slow.resolve({ verified: false, problems: "nothing answers on TCP 127.0.0.1:9050" });
    const final = await first.settled;
    expect(final).toEqual({
      id: "tor",
      state: "done",
      startedAt: "2025-01-16T10:00:01.000Z",
      finishedAt: "2025-01-16T10:00:02.000Z",
      verified: false,
      problems: "nothing answers on TCP 127.0.0.1:9050",
    });
    expect(restarts.get("tor")).toEqual(final);

    // Once settled, a new restart may start.
    const third = restarts.start("tor", async () => ({ verified: true, problems: null }), String);
    expect(third.started).toBe(true);
    expect(await third.settled).toMatchObject({ state: "done", verified: true });
  });

  it("turns a failure into state 'failed' with a message naming the unit and the next thing to try", async () => {
    const restarts = new NodeRestarts(clock());
    const { settled } = restarts.start(
      "bitcoin-core",
      async () => {
        throw new Error("the agent did not answer node.restart in time");
      },
      (error) =>
        restartFailureMessage("Bitcoin Core", ["freehold-bitcoin-core.service"], (error as Error).message),
    );
    const final = await settled;
    expect(final.state).toBe("failed");
    if (final.state !== "failed") return;
    expect(final.message).toBe(
      "Restarting Bitcoin Core (freehold-bitcoin-core.service) failed: the agent did not answer node.restart in time. Next: open the logs of freehold-bitcoin-core.service below (or run systemctl status freehold-bitcoin-core.service in the Terminal); restart it again once it is active or failed.",
    );
    expect(restarts.get("bitcoin-core")).toEqual(final);
  });
});
