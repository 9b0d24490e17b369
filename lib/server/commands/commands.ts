import { isUniqueViolation, type Sql } from "../store/sql";
import { randomBytes } from "node:crypto";
import type { CommandInput } from "../../rrpc/schemas";
import { renderTemplate, type CommandParam, type ParamValue } from "../../rrpc/template";
import { base64ToBytes, utf8Bytes } from "../../rrpc/payload";
import type { Command } from "../../rrpc/api";
import { DomainError, invalidInput } from "../core/errors";

type CommandRow = {
  id: string;
  name: string;
  description: string | null;
  product_id: string | null;
  payload: string;
  encoding: "utf8" | "base64";
  params: string;
  timeout_ms: number | null;
  created_at: number;
  updated_at: number;
};

/** A command made ready for one call: its rendered payload and what the call records. */
export type PreparedCommand = {
  commandId: string;
  payload: Uint8Array;
  params: Record<string, ParamValue>;
  timeoutMs?: number;
  /** The product the command is for, when it is for one. */
  productId?: string;
};

export function commandNotFound(id: string): DomainError {
  return new DomainError("command_not_found", `no command with id ${id}`);
}

/**
 * Saved commands (README, "Commands"): named payload templates with typed parameters, in the
 * store's SQLite file (table commands, store/migrations.ts). Definitions are checked by the
 * API's schema (lib/rrpc/schemas.ts, with the template rules of lib/rrpc/template.ts); a
 * command is rendered here for each call, with the same rules.
 */
export class CommandRegistry {
  constructor(
    private readonly sql: Sql,
    private readonly maxPayloadBytes: number,
  ) {}

  async list(): Promise<Command[]> {
    // lower(): SQLite's NOCASE order, also for PostgreSQL's CITEXT column.
    return (await this.sql.all<CommandRow>(`SELECT * FROM commands ORDER BY lower(name), name`)).map(toCommand);
  }

  async get(id: string): Promise<Command> {
    const row = await this.sql.get<CommandRow>(`SELECT * FROM commands WHERE id = ?`, [id]);
    if (!row) throw commandNotFound(id);
    return toCommand(row);
  }

  async create(input: CommandInput): Promise<Command> {
    this.check(input);
    const id = "cmd_" + randomBytes(6).toString("hex");
    const now = Date.now();
    await this.unique(input.name, () =>
      this.sql.run(
        `INSERT INTO commands (id, name, description, product_id, payload, encoding, params, timeout_ms, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, input.name, ...this.columns(input), input.timeoutMs ?? null, now, now],
      ),
    );
    return this.get(id);
  }

  async update(id: string, input: CommandInput): Promise<Command> {
    await this.get(id);
    this.check(input);
    await this.unique(input.name, () =>
      this.sql.run(
        `UPDATE commands SET name = ?, description = ?, product_id = ?, payload = ?, encoding = ?, params = ?, timeout_ms = ?, updated_at = ?
         WHERE id = ?`,
        [input.name, ...this.columns(input), input.timeoutMs ?? null, Date.now(), id],
      ),
    );
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if ((await this.sql.run(`DELETE FROM commands WHERE id = ?`, [id])).changes === 0) throw commandNotFound(id);
  }

  /**
   * The command rendered with `values` for a call to `productId`: refused (nothing is
   * published) when a parameter is missing, mistyped or out of range, or the command is for
   * another product.
   */
  async prepare(id: string, values: Record<string, unknown>, productId?: string): Promise<PreparedCommand> {
    const cmd = await this.get(id);
    if (productId !== undefined && cmd.productId !== undefined && cmd.productId !== productId) {
      throw invalidInput([{ field: "productId", message: `command ${cmd.name} is for product ${cmd.productId}` }]);
    }
    const r = renderTemplate(cmd, values);
    if (!r.ok) throw invalidInput(r.fields);
    const out: PreparedCommand = {
      commandId: cmd.id,
      payload: cmd.encoding === "base64" ? base64ToBytes(r.payload) : utf8Bytes(r.payload),
      params: r.params,
    };
    if (cmd.timeoutMs !== undefined) out.timeoutMs = cmd.timeoutMs;
    if (cmd.productId !== undefined) out.productId = cmd.productId;
    return out;
  }

  private check(input: CommandInput): void {
    // A template longer than the limit renders a payload over it whatever the parameters.
    const bytes = input.encoding === "base64" ? base64ToBytes(input.payload).byteLength : utf8Bytes(input.payload).byteLength;
    if (bytes > this.maxPayloadBytes) {
      throw invalidInput([{ field: "payload", message: `the template is ${bytes} bytes; the payload limit is ${this.maxPayloadBytes}` }]);
    }
  }

  private columns(c: CommandInput) {
    return [c.description ?? null, c.productId ?? null, c.payload, c.encoding, JSON.stringify(c.params)] as const;
  }

  private async unique(name: string, write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new DomainError("command_exists", `a command named ${JSON.stringify(name)} already exists`, [
          { field: "name", message: "already taken" },
        ]);
      }
      throw err;
    }
  }
}

function toCommand(r: CommandRow): Command {
  const c: Command = {
    id: r.id,
    name: r.name,
    payload: r.payload,
    encoding: r.encoding,
    params: JSON.parse(r.params) as CommandParam[],
    createdAt: new Date(r.created_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
  if (r.description !== null) c.description = r.description;
  if (r.product_id !== null) c.productId = r.product_id;
  if (r.timeout_ms !== null) c.timeoutMs = r.timeout_ms;
  return c;
}
