import type { Sql } from "../store/sql";
import type { ProductInfo, ProductList } from "../../rrpc/api";
import { effectiveRequestLimit } from "../../rrpc/types";
import { invalidInput } from "../core/errors";

type ProductRow = { product_id: string; max_request_bytes: number | null; updated_at: number };

/**
 * Per-product settings, in the store's database (table products, store/migrations.ts): a
 * request-size limit below RRPC_MAX_PAYLOAD for a product whose devices have small receive
 * buffers (docs/protocol.md, "Payloads"). The limits are kept in memory too: every call asks
 * for its product's (calls/hub.ts), and must not read the database for it.
 */
export class ProductSettings {
  /** Products with a limit, by id: the hot path's copy of the table. */
  private readonly limits = new Map<string, number>();

  private constructor(
    private readonly sql: Sql,
    private readonly maxPayloadBytes: number,
  ) {}

  /** The settings, with the limits read into memory. */
  static async open(sql: Sql, maxPayloadBytes: number): Promise<ProductSettings> {
    const p = new ProductSettings(sql, maxPayloadBytes);
    await p.reload();
    return p;
  }

  /** Reads the limits again (another hub on the same database may have changed them). */
  async reload(): Promise<void> {
    const rows = await this.sql.all<ProductRow>(`SELECT * FROM products`);
    this.limits.clear();
    for (const r of rows) if (r.max_request_bytes !== null) this.limits.set(r.product_id, r.max_request_bytes);
  }

  /** The product's request-size limit, null when it has none (from memory). */
  limitOf(productId: string): number | null {
    return this.limits.get(productId) ?? null;
  }

  /** Every product's limit, for GET /api/limits. */
  allLimits(): Record<string, number> {
    return Object.fromEntries(this.limits);
  }

  /** Every product with registered devices or settings, by id. */
  async list(): Promise<ProductList> {
    const counts = new Map(
      (await this.sql.all<{ product_id: string; n: number }>(`SELECT product_id, COUNT(*) AS n FROM devices GROUP BY product_id`)).map((r) => [
        r.product_id,
        r.n,
      ]),
    );
    const rows = new Map((await this.sql.all<ProductRow>(`SELECT * FROM products`)).map((r) => [r.product_id, r]));
    const ids = [...new Set([...counts.keys(), ...rows.keys()])].sort();
    return { products: ids.map((id) => this.info(id, rows.get(id) ?? null, counts.get(id) ?? 0)) };
  }

  /** A product's settings; a product without settings or devices has the defaults. */
  async get(productId: string): Promise<ProductInfo> {
    const row = await this.sql.get<ProductRow>(`SELECT * FROM products WHERE product_id = ?`, [productId]);
    const n = (await this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM devices WHERE product_id = ?`, [productId]))!.n;
    return this.info(productId, row ?? null, n);
  }

  /** Sets (or, with null, clears) the product's request-size limit: 1 to RRPC_MAX_PAYLOAD bytes. */
  async setLimit(productId: string, maxRequestBytes: number | null): Promise<ProductInfo> {
    if (maxRequestBytes !== null && (!Number.isInteger(maxRequestBytes) || maxRequestBytes < 1 || maxRequestBytes > this.maxPayloadBytes)) {
      throw invalidInput([{ field: "maxRequestBytes", message: `from 1 to RRPC_MAX_PAYLOAD (${this.maxPayloadBytes} bytes), or null` }]);
    }
    await this.sql.run(
      `INSERT INTO products (product_id, max_request_bytes, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (product_id) DO UPDATE SET max_request_bytes = excluded.max_request_bytes, updated_at = excluded.updated_at`,
      [productId, maxRequestBytes, Date.now()],
    );
    if (maxRequestBytes === null) this.limits.delete(productId);
    else this.limits.set(productId, maxRequestBytes);
    return this.get(productId);
  }

  private info(productId: string, row: ProductRow | null, devices: number): ProductInfo {
    const maxRequestBytes = row?.max_request_bytes ?? null;
    return {
      productId,
      devices,
      maxRequestBytes,
      effectiveMaxRequestBytes: effectiveRequestLimit(this.maxPayloadBytes, maxRequestBytes),
      updatedAt: row ? new Date(row.updated_at).toISOString() : null,
    };
  }
}
