"use client";
import { useState } from "react";
import useSWR, { mutate } from "swr";
import type { ProductInfo, ProductList, ProductSettingsRequest } from "@/lib/rrpc/api";
import { api, swrFetcher, type ApiClientError } from "@/lib/hooks/api-client";
import { KEYS, useLimits } from "@/lib/hooks/use-api";
import { useAction } from "@/lib/hooks/use-action";
import { DataTable, EmptyRow, type Column } from "./data-table";
import { ErrorAlert } from "./error-alert";

const PRODUCTS = "/api/products";

const COLUMNS: Column[] = [{ label: "Product" }, { label: "Devices", align: "right" }, { label: "Request limit" }, { label: "Change" }];

/** Sets (or, with null, clears) a product's request-size limit; the console's limits follow. */
async function setProductLimit(productId: string, maxRequestBytes: number | null): Promise<ProductInfo> {
  try {
    return await api<ProductInfo>("PUT", `${PRODUCTS}/${encodeURIComponent(productId)}`, { maxRequestBytes } satisfies ProductSettingsRequest);
  } finally {
    await Promise.all([mutate(PRODUCTS), mutate(KEYS.limits)]);
  }
}

/** Each product's request-size limit, to view, set and clear (Devices page). */
export function ProductLimits() {
  const { data, error } = useSWR<ProductList, ApiClientError>(PRODUCTS, swrFetcher);
  const { data: limits } = useLimits();
  return (
    <section aria-labelledby="product-limits-title" className="space-y-2" data-testid="product-limits">
      <h2 id="product-limits-title" className="text-base font-semibold">
        Request limit per product
      </h2>
      <p className="text-xs text-zinc-600 dark:text-zinc-400">
        Calls to a product&apos;s devices with a larger payload are refused before anything is sent, for devices with small receive buffers.
        Tencent&apos;s C SDK default receive buffer is 2048 bytes. Without a limit, only RRPC_MAX_PAYLOAD
        {limits ? ` (${limits.maxPayloadBytes} bytes)` : ""} applies.
      </p>
      <ErrorAlert error={error} prefix="Cannot load products" />
      <DataTable columns={COLUMNS} label="Request limit per product">
        {data?.products.map((p) => (
          <ProductRow key={p.productId} product={p} max={limits?.maxPayloadBytes} />
        ))}
        {data && data.products.length === 0 && <EmptyRow columns={COLUMNS.length}>No products yet: register a device above.</EmptyRow>}
      </DataTable>
    </section>
  );
}

function ProductRow({ product, max }: { product: ProductInfo; max: number | undefined }) {
  const [value, setValue] = useState(product.maxRequestBytes === null ? "" : String(product.maxRequestBytes));
  const n = Number(value);
  const problem =
    value.trim() === ""
      ? "a number of bytes"
      : !Number.isInteger(n) || n < 1 || (max !== undefined && n > max)
        ? `from 1 to ${max ?? "RRPC_MAX_PAYLOAD"} bytes`
        : undefined;
  const { run, busy, error } = useAction(async (limit: number | null) => {
    const saved = await setProductLimit(product.productId, limit);
    setValue(saved.maxRequestBytes === null ? "" : String(saved.maxRequestBytes));
  });
  const field = "w-28 rounded border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900";
  return (
    <>
      <tr data-product={product.productId} className="border-t border-zinc-100 dark:border-zinc-800">
        <td className="px-2 py-1 font-medium">{product.productId}</td>
        <td data-label="Devices" className="px-2 py-1 text-right font-mono">
          {product.devices}
        </td>
        <td data-label="Request limit" className="px-2 py-1 text-sm" data-testid="product-limit">
          {product.maxRequestBytes === null ? (
            <span className="text-zinc-600 dark:text-zinc-400">none (RRPC_MAX_PAYLOAD, {product.effectiveMaxRequestBytes} bytes)</span>
          ) : (
            `${product.maxRequestBytes} bytes`
          )}
        </td>
        <td className="px-2 py-1">
          <form
            aria-label={`Request limit of ${product.productId}`}
            className="flex flex-wrap items-center gap-2"
            onSubmit={(e) => {
              e.preventDefault();
              if (!problem) void run(n);
            }}
          >
            <input
              type="number"
              min={1}
              max={max}
              inputMode="numeric"
              className={field}
              aria-label={`Request limit of ${product.productId} in bytes`}
              placeholder="2048"
              value={value}
              onChange={(e) => setValue(e.target.value)}
            />
            <button
              type="submit"
              disabled={busy || !!problem}
              className="rounded bg-sky-700 px-2 py-1 text-sm font-medium text-white hover:bg-sky-800 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-sky-600 disabled:opacity-50"
            >
              Set
            </button>
            <button
              type="button"
              disabled={busy || product.maxRequestBytes === null}
              className="text-sm underline disabled:opacity-50"
              aria-label={`Clear the request limit of ${product.productId}`}
              onClick={() => void run(null)}
            >
              Clear
            </button>
          </form>
        </td>
      </tr>
      {error ? (
        <tr>
          <td colSpan={COLUMNS.length} className="px-2 pb-2">
            <ErrorAlert error={error} prefix={`Cannot change the request limit of ${product.productId}`} />
          </td>
        </tr>
      ) : null}
    </>
  );
}
