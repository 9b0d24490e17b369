/**
 * API keys for the Tencent-compatible API (PublishRRPCMessage), kept in the hub's SQLite file.
 *   npm run keys -- create [--name N] | list [--json] | revoke <SecretId> | hash-password
 * The SecretKey is printed once, by create; it cannot be shown again.
 */
import type Database from "better-sqlite3";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DomainError } from "../lib/server/core/errors";
import { ApiKeys } from "../lib/server/keys/api-keys";
import { openDatabase } from "../lib/server/store/database";
import { hashPassword } from "../lib/server/auth/tokens";

const usage = `usage: npm run keys -- create [--name NAME] | list [--json] | revoke <SecretId>
       npm run keys -- hash-password   (reads the operator password on stdin; prints RRPC_OPERATOR_PASSWORD_HASH)
  database: RRPC_DB (default ./data/rrpc.db)`;

function open(): { db: Database.Database; registry: ApiKeys } {
  const db = openDatabase(process.env.RRPC_DB || "./data/rrpc.db", { busyTimeoutMs: 5000 });
  return { db, registry: new ApiKeys(db) };
}

function main(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
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
  const { db, registry } = open();
  try {
    switch (command) {
      case "create": {
        if (rest.length > 0) break;
        const key = registry.createApiKey(values.name);
        console.log(`SecretId:  ${key.secretId}\nSecretKey: ${key.secretKey}\n\nKeep the SecretKey now: it is not shown again.`);
        return 0;
      }
      case "list": {
        if (rest.length > 0) break;
        const keys = registry.listApiKeys();
        if (values.json) console.log(JSON.stringify(keys, null, 2));
        else if (keys.length === 0) console.log("no API keys");
        else printTable(keys.map((k) => [k.secretId, k.name ?? "", k.createdAt, k.revokedAt ?? "", k.lastUsedAt ?? ""]));
        return 0;
      }
      case "revoke": {
        if (rest.length !== 1) break;
        const key = registry.revokeApiKey(rest[0]!);
        console.log(`revoked ${key.secretId} at ${key.revokedAt}`);
        return 0;
      }
    }
    console.error(usage);
    return 2;
  } finally {
    db.close();
  }
}

function printTable(rows: string[][]): void {
  const all = [["SecretId", "name", "created", "revoked", "last used"], ...rows];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  for (const r of all)
    console.log(
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (err) {
  console.error(err instanceof DomainError || err instanceof TypeError ? err.message : err);
  process.exitCode = 1;
}
