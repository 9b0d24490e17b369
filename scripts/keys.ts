/**
 * API keys for the Tencent-compatible API (PublishRRPCMessage) and team accounts, kept in the hub's database.
 *   npm run keys -- create [--name N] [--role R] | list [--json] | revoke <SecretId> | hash-password
 *   npm run keys -- user add NAME --role R [--password P] | user list [--json] | user role NAME R | user remove NAME
 * The SecretKey is printed once, by create; it cannot be shown again. Passwords are never printed.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DomainError } from "../lib/server/core/errors";
import { ApiKeys } from "../lib/server/keys/api-keys";
import { openHubDatabase } from "../lib/server/store/open";
import type { Sql } from "../lib/server/store/sql";
import { hashPassword } from "../lib/server/auth/tokens";
import { MIN_PASSWORD_LENGTH, Users } from "../lib/server/auth/users";
import { isRole, type Role } from "../lib/server/auth/roles";
import { createInterface } from "node:readline/promises";

const usage = `usage: npm run keys -- create [--name NAME] [--role viewer|operator|admin] | list [--json] | revoke <SecretId>
       npm run keys -- hash-password   (reads the operator password on stdin; prints RRPC_OPERATOR_PASSWORD_HASH)
       npm run keys -- user add NAME --role viewer|operator|admin [--password P]
                       (or the password in RRPC_NEW_PASSWORD, or asked for; never printed)
       npm run keys -- user list [--json] | user role NAME ROLE | user remove NAME
  database: DATABASE_URL (PostgreSQL) if set, else RRPC_DB (default ./data/rrpc.db)`;

async function open(): Promise<{ db: Sql; registry: ApiKeys }> {
  const { sql } = await openHubDatabase();
  return { db: sql, registry: new ApiKeys(sql) };
}

/** A new user's password: --password, RRPC_NEW_PASSWORD, or asked for (a terminal) / read from stdin. */
async function newPassword(given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  if (process.env.RRPC_NEW_PASSWORD) return process.env.RRPC_NEW_PASSWORD;
  if (!process.stdin.isTTY) return readFileSync(0, "utf8").replace(/\r?\n$/, "");
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Nothing typed is echoed: the answer is written over with nothing.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
    if (s.includes("Password")) process.stderr.write(s);
  };
  try {
    return await rl.question(`Password (${MIN_PASSWORD_LENGTH}+ characters): `);
  } finally {
    rl.close();
    process.stderr.write("\n");
  }
}

async function userCommand(db: Sql, rest: string[], values: { role?: string; password?: string; json: boolean }): Promise<number | null> {
  const users = new Users(db);
  const [sub, name, arg] = rest;
  const roleOf = (r: string | undefined): Role => {
    if (!isRole(r)) throw new TypeError("the role must be viewer, operator or admin (--role)");
    return r;
  };
  switch (sub) {
    case "add": {
      if (!name || arg !== undefined) return null;
      const role = roleOf(values.role);
      const password = await newPassword(values.password);
      if (password.length < MIN_PASSWORD_LENGTH) throw new TypeError(`the password must be at least ${MIN_PASSWORD_LENGTH} characters`);
      const u = await users.add(name, role, hashPassword(password));
      console.log(`added ${u.name} (${u.role})`);
      return 0;
    }
    case "list": {
      if (name !== undefined) return null;
      const list = await users.list();
      if (values.json) console.log(JSON.stringify(list, null, 2));
      else if (list.length === 0) console.log("no users");
      else
        printTable(
          ["name", "role", "created", "disabled"],
          list.map((u) => [u.name, u.role, u.createdAt, u.disabled ? "yes" : ""]),
        );
      return 0;
    }
    case "role": {
      if (!name || !arg) return null;
      const u = await users.setRole(name, roleOf(arg));
      console.log(`${u.name} is now ${u.role}`);
      return 0;
    }
    case "remove": {
      if (!name || arg !== undefined) return null;
      await users.remove(name);
      console.log(`removed ${name}; their sessions ended`);
      return 0;
    }
  }
  return null;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      role: { type: "string" },
      password: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return command || values.help ? 0 : 2;
  }
  if (command === "hash-password") {
    // From stdin, not argv: a password on the command line ends up in shell history and `ps`.
    const password = readFileSync(0, "utf8").replace(/\r?\n$/, "");
    if (password.length < 12) {
      console.error("the operator password must be at least 12 characters");
      return 2;
    }
    console.log(hashPassword(password));
    return 0;
  }
  const { db, registry } = await open();
  try {
    switch (command) {
      case "create": {
        if (rest.length > 0) break;
        if (values.role !== undefined && !isRole(values.role)) throw new TypeError("the role must be viewer, operator or admin (--role)");
        const key = await registry.createApiKey(values.name, values.role);
        console.log(
          `SecretId:  ${key.secretId}\nSecretKey: ${key.secretKey}\nRole:      ${values.role ?? "operator"}\n\nKeep the SecretKey now: it is not shown again.`,
        );
        return 0;
      }
      case "list": {
        if (rest.length > 0) break;
        const keys = await registry.listApiKeys();
        if (values.json) console.log(JSON.stringify(keys, null, 2));
        else if (keys.length === 0) console.log("no API keys");
        else
          printTable(
            ["SecretId", "name", "role", "created", "revoked", "last used"],
            keys.map((k) => [k.secretId, k.name ?? "", k.role, k.createdAt, k.revokedAt ?? "", k.lastUsedAt ?? ""]),
          );
        return 0;
      }
      case "revoke": {
        if (rest.length !== 1) break;
        const key = await registry.revokeApiKey(rest[0]!);
        console.log(`revoked ${key.secretId} at ${key.revokedAt}`);
        return 0;
      }
      case "user": {
        const code = await userCommand(db, rest, values);
        if (code !== null) return code;
        break;
      }
    }
    console.error(usage);
    return 2;
  } finally {
    await db.close();
  }
}

function printTable(head: string[], rows: string[][]): void {
  const all = [head, ...rows];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const r of all)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(err instanceof DomainError || err instanceof TypeError ? err.message : err);
    process.exitCode = 1;
  },
);
