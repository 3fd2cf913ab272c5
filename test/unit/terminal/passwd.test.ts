import { describe, expect, it } from "vitest";
import {
  accountProblem,
  findUid,
  findUser,
  loginShellLaunch,
  parsePasswd,
  parseShells,
} from "../../../app/lib/terminal/passwd";

const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
# a comment
freehold:x:998:998:Freehold web app:/var/lib/freehold:/usr/sbin/nologin
alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash
+nis-entry::::::
broken:x:1001
evil:x:abc:1000::/home/evil:/bin/bash
toor:x:0:0::/home/toor:/bin/bash
bob:x:1002:0::/home/bob:/bin/bash
carol:x:1003:1003::/home/carol:/usr/sbin/nologin
dave:x:1004:1004::/home/dave:/opt/evil/shell
erin:x:1005:1005::relative/home:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
alice:x:1006:1006::/home/alice2:/bin/bash
`;
const SHELLS = "# /etc/shells: valid login shells\n/bin/sh\n/bin/bash\n/usr/bin/bash\n\n/bin/dash\n";

describe("passwd parsing", () => {
  const entries = parsePasswd(PASSWD);

  it("reads well-formed lines and skips the rest", () => {
    expect(entries.map((e) => e.name)).toEqual([
      "root",
      "daemon",
      "freehold",
      "alice",
      "toor",
      "bob",
      "carol",
      "dave",
      "erin",
      "nobody",
      "alice",
    ]);
    expect(findUser(entries, "alice")).toEqual({
      name: "alice",
      uid: 1000,
      gid: 1000,
      gecos: "Alice,,,",
      home: "/home/alice",
      shell: "/bin/bash",
    });
    expect(findUser(entries, "mallory")).toBeNull();
    expect(findUid(entries, 998)?.name).toBe("freehold");
    expect(parseShells(SHELLS)).toEqual(["/bin/sh", "/bin/bash", "/usr/bin/bash", "/bin/dash"]);
  });

  it("refuses root, uid-0 aliases, system accounts, group root, nologin, odd shells and homes", () => {
    const shells = parseShells(SHELLS);
    const problem = (name: string) => {
      const e = findUser(entries, name);
      if (!e) throw new Error(name);
      return accountProblem(e, shells);
    };
    expect(problem("alice")).toBeNull();
    expect(problem("root")).toMatch(/uid 0/);
    expect(problem("toor")).toMatch(/uid 0/);
    expect(problem("daemon")).toMatch(/system account/);
    expect(problem("freehold")).toMatch(/system account/);
    expect(problem("bob")).toMatch(/primary group is root/);
    expect(problem("carol")).toMatch(/refuses logins/);
    expect(problem("dave")).toMatch(/not listed in \/etc\/shells/);
    expect(problem("erin")).toMatch(/home/);
    expect(problem("nobody")).toMatch(/nobody/);
  });

  it("launches the login shell as a login shell with a minimal environment", () => {
    const alice = findUser(entries, "alice");
    if (!alice) throw new Error("alice");
    const env = {
      HOME: "/home/alice",
      USER: "alice",
      LOGNAME: "alice",
      SHELL: "/bin/bash",
      PATH: "/usr/local/bin:/usr/bin:/bin:/usr/games",
      TERM: "xterm-256color",
      LANG: "C.UTF-8",
    };
    expect(loginShellLaunch(alice, { asRoot: false })).toEqual({
      file: "/bin/bash",
      args: ["-l"],
      env,
      cwd: "/home/alice",
      user: "alice",
    });
    // As root (freehold-agent): setpriv becomes alice, with alice's groups, before the shell runs.
    expect(loginShellLaunch(alice, { asRoot: true })).toEqual({
      file: "/usr/bin/setpriv",
      args: ["--reuid", "1000", "--regid", "1000", "--init-groups", "--", "/bin/bash", "-l"],
      env,
      cwd: "/home/alice",
      user: "alice",
    });
  });
});
