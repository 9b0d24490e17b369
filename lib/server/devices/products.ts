import type Database from "better-sqlite3";
import type { ProductInfo, ProductList } from "../../rrpc/api";
import { effectiveRequestLimit } from "../../rrpc/types";
import { invalidInput } from "../core/errors";

type ProductRow = { product_id: string; max_request_bytes: number | null; updated_at: number };

/**
 * Per-product settings, in the store's SQLite file (table products, store/migrations.ts): a
 * request-size limit below RRPC_MAX_PAYLOAD for a product whose devices have small receive
 * buffers (docs/protocol.md, "Payloads"). The limits are kept in memory too: every call asks
 * for its product's (calls/hub.ts), and must not read SQLite for it.
 */
export class ProductSettings {
  private readonly stmts;
  /** Products with a limit, by id: the hot path's copy of the table. */
  private readonly limits = new Map<string, number>();

  constructor(
    db: Database.Database,
    private readonly maxPayloadBytes: number,
  ) {
    this.stmts = {
      all: db.prepare<[], ProductRow>(`SELECT * FROM products`),
      get: db.prepare<[string], ProductRow>(`SELECT * FROM products WHERE product_id = ?`),
      upsert: db.prepare(
        `INSERT INTO products (product_id, max_request_bytes, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (product_id) DO UPDATE SET max_request_bytes = excluded.max_request_bytes, updated_at = excluded.updated_at`,
      ),
      deviceCounts: db.prepare<[], { product_id: string; n: number }>(`SELECT product_id, COUNT(*) AS n FROM devices GROUP BY product_id`),
      deviceCount: db.prepare<[string], { n: number }>(`SELECT COUNT(*) AS n FROM devices WHERE product_id = ?`),
    };
    this.reload();
  }

  private reload(): void {
    this.limits.clear();
    for (const r of this.stmts.all.all()) if (r.max_request_bytes !== null) this.limits.set(r.product_id, r.max_request_bytes);
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
  list(): ProductList {
    const counts = new Map(this.stmts.deviceCounts.all().map((r) => [r.product_id, r.n]));
    const rows = new Map(this.stmts.all.all().map((r) => [r.product_id, r]));
    const ids = [...new Set([...counts.keys(), ...rows.keys()])].sort();
    return { products: ids.map((id) => this.info(id, rows.get(id) ?? null, counts.get(id) ?? 0)) };
  }

  /** A product's settings; a product without settings or devices has the defaults. */
  get(productId: string): ProductInfo {
    return this.info(productId, this.stmts.get.get(productId) ?? null, this.stmts.deviceCount.get(productId)!.n);
  }

  /** Sets (or, with null, clears) the product's request-size limit: 1 to RRPC_MAX_PAYLOAD bytes. */
  setLimit(productId: string, maxRequestBytes: number | null): ProductInfo {
    if (maxRequestBytes !== null && (!Number.isInteger(maxRequestBytes) || maxRequestBytes < 1 || maxRequestBytes > this.maxPayloadBytes)) {
      throw invalidInput([{ field: "maxRequestBytes", message: `from 1 to RRPC_MAX_PAYLOAD (${this.maxPayloadBytes} bytes), or null` }]);
    }
    this.stmts.upsert.run(productId, maxRequestBytes, Date.now());
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
