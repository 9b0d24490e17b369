"use client";
/**
 * The API page: GET /api/openapi.json (the document the server generates from its schemas),
 * drawn compactly — each operation with its method, path, summary, parameters, request body and
 * answers; the named schemas; the error codes. No OpenAPI library: the document is small and
 * its schemas are zod's JSON Schema.
 */
import { Fragment, useEffect, type ReactNode } from "react";
import useSWR from "swr";
import { swrFetcher, type ApiClientError } from "@/lib/hooks/api-client";
import { HTTP_METHODS, type JsonSchema, type OpenApiDocument, type OpenApiOperation, type OpenApiResponse } from "@/lib/rrpc/openapi-document";
import { ErrorAlert } from "./error-alert";

export const OPENAPI_PATH = "/api/openapi.json";

const METHOD_STYLE: Record<string, string> = {
  get: "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100",
  post: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
  put: "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
  patch: "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
  delete: "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
};

const muted = "text-zinc-600 dark:text-zinc-400";
const codeStyle = "rounded bg-zinc-100 px-1 font-mono text-[0.85em] dark:bg-zinc-800";

const summaryStyle =
  "cursor-pointer list-none rounded px-3 py-2 hover:bg-zinc-50 focus-visible:outline-2 focus-visible:outline-sky-600 dark:hover:bg-zinc-900 [&::-webkit-details-marker]:hidden";

/** The fold's triangle (the summary's own is hidden to lay the heading out in a row). */
const Marker = () => (
  <span aria-hidden className="mr-2 inline-block text-xs text-zinc-500 transition-transform group-open:rotate-90 dark:text-zinc-400">
    ▶
  </span>
);

type Operation = { method: string; path: string; op: OpenApiOperation };

function operationsOf(doc: OpenApiDocument): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) => HTTP_METHODS.filter((m) => ops[m]).map((method) => ({ method, path, op: ops[method]! })));
}

/** `code` and **bold**, the only markup the document's texts use. */
function Prose({ text }: { text: string }) {
  return (
    <>
      {text.split(/(`[^`]+`|\*\*[^*]+\*\*)/).map((part, i) =>
        part.startsWith("`") && part.endsWith("`") && part.length > 1 ? (
          <code key={i} className={codeStyle}>
            {part.slice(1, -1)}
          </code>
        ) : part.startsWith("**") && part.endsWith("**") && part.length > 3 ? (
          <strong key={i}>{part.slice(2, -2)}</strong>
        ) : (
          <Fragment key={i}>{part}</Fragment>
        ),
      )}
    </>
  );
}

export function ApiDocs() {
  const { data: doc, error } = useSWR<OpenApiDocument, ApiClientError>(OPENAPI_PATH, swrFetcher, { revalidateOnFocus: false });
  useOpenOnHash(doc !== undefined);
  if (error) return <ErrorAlert error={error} prefix="Cannot load the API document" />;
  if (!doc) return <p className={muted}>Loading the API document…</p>;
  const operations = operationsOf(doc);
  return (
    <article aria-labelledby="api-title" className="space-y-8" data-testid="api-docs">
      <header className="space-y-3">
        <h1 id="api-title" className="text-lg font-semibold">
          {doc.info.title} <span className={`text-sm font-normal ${muted}`}>OpenAPI {doc.openapi}</span>
        </h1>
        {doc.info.description.split(/\n\n+/).map((p, i) => (
          <p key={i} className="max-w-4xl text-sm">
            <Prose text={p} />
          </p>
        ))}
        <p className="text-sm">
          The document itself:{" "}
          <a href={OPENAPI_PATH} className="underline">
            {OPENAPI_PATH}
          </a>
        </p>
      </header>

      {doc.tags.map((tag) => {
        const ops = operations.filter((o) => o.op.tags.includes(tag.name));
        if (ops.length === 0) return null;
        return (
          <section key={tag.name} aria-labelledby={`tag-${tag.name}`} className="space-y-2">
            <h2 id={`tag-${tag.name}`} className="border-b border-zinc-200 pb-1 text-base font-semibold dark:border-zinc-800">
              {tag.name} {tag.description && <span className={`text-sm font-normal ${muted}`}>— {tag.description}</span>}
            </h2>
            <div className="space-y-2">
              {ops.map((o) => (
                <OperationView key={o.op.operationId} {...o} />
              ))}
            </div>
          </section>
        );
      })}

      <section aria-labelledby="schemas-title" className="space-y-3">
        <h2 id="schemas-title" className="border-b border-zinc-200 pb-1 text-base font-semibold dark:border-zinc-800">
          Schemas
        </h2>
        <div className="space-y-2">
          {Object.entries(doc.components.schemas).map(([name, schema]) => (
            <details key={name} id={`schema-${name}`} className="group scroll-mt-4 rounded border border-zinc-200 dark:border-zinc-800">
              <summary className={summaryStyle}>
                <Marker />
                <h3 className="inline font-mono text-sm font-semibold">{name}</h3>
                {schema.properties && <span className={`ml-2 text-xs ${muted}`}>{Object.keys(schema.properties).join(", ")}</span>}
              </summary>
              <div className="border-t border-zinc-200 p-3 dark:border-zinc-800">
                <SchemaView schema={schema} />
              </div>
            </details>
          ))}
        </div>
      </section>

      <section aria-labelledby="errors-title" className="space-y-3">
        <h2 id="errors-title" className="border-b border-zinc-200 pb-1 text-base font-semibold dark:border-zinc-800">
          Error codes
        </h2>
        <table className="text-sm">
          <thead>
            <tr className="text-left">
              <th scope="col" className="pr-4 font-medium">
                Status
              </th>
              <th scope="col" className="pr-4 font-medium">
                Code
              </th>
              <th scope="col" className="font-medium">
                When
              </th>
            </tr>
          </thead>
          <tbody>
            {doc["x-error-codes"].map((e) => (
              <tr key={e.code} className="border-t border-zinc-200 align-top dark:border-zinc-800">
                <td className="py-1 pr-4 font-mono">{e.status}</td>
                <td className="py-1 pr-4 font-mono">{e.code}</td>
                <td className="py-1">
                  <Prose text={e.description} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </article>
  );
}

/** Operations are folded: a link to one (#op-…, #schema-…) unfolds it and what holds it. */
function useOpenOnHash(ready: boolean) {
  useEffect(() => {
    if (!ready) return;
    const open = () => {
      const target = window.location.hash ? document.getElementById(decodeURIComponent(window.location.hash.slice(1))) : null;
      if (!target) return;
      for (let el: HTMLElement | null = target; el; el = el.parentElement) if (el instanceof HTMLDetailsElement) el.open = true;
      target.scrollIntoView();
    };
    open();
    window.addEventListener("hashchange", open);
    return () => window.removeEventListener("hashchange", open);
  }, [ready]);
}

function MethodBadge({ method }: { method: string }) {
  return (
    <span className={`inline-block w-16 rounded px-1.5 text-center font-mono text-xs font-semibold uppercase ${METHOD_STYLE[method] ?? ""}`}>
      {method}
    </span>
  );
}

function OperationView({ method, path, op }: Operation) {
  const isPublic = op.security.length === 0;
  return (
    <details
      id={`op-${op.operationId}`}
      data-operation={`${method.toUpperCase()} ${path}`}
      className="group scroll-mt-4 rounded border border-zinc-200 dark:border-zinc-800"
    >
      <summary className={summaryStyle}>
        <Marker />
        <h3 className="inline-flex flex-wrap items-baseline gap-2">
          <MethodBadge method={method} />
          <span className="font-mono text-sm font-semibold">{path}</span>
          <span className="text-sm font-normal">{op.summary}</span>
        </h3>
      </summary>
      <div className="space-y-3 border-t border-zinc-200 p-3 dark:border-zinc-800">
        {op.description && (
          <p className="text-sm">
            <Prose text={op.description} />
          </p>
        )}
        <p className={`text-xs ${muted}`}>
          {isPublic ? "Public: no sign-in needed." : "With sign-in on: an API key (HTTP Basic SecretId:SecretKey) or an operator session."}{" "}
          operationId <code className={codeStyle}>{op.operationId}</code>
        </p>
        {op.parameters && op.parameters.length > 0 && (
          <div>
            <h4 className="text-sm font-medium">Parameters</h4>
            <table className="text-sm">
              <thead>
                <tr className="text-left">
                  <th scope="col" className="pr-4 font-medium">
                    Name
                  </th>
                  <th scope="col" className="pr-4 font-medium">
                    In
                  </th>
                  <th scope="col" className="font-medium">
                    Schema
                  </th>
                </tr>
              </thead>
              <tbody>
                {op.parameters.map((p) => (
                  <tr key={`${p.in}-${p.name}`} className="border-t border-zinc-200 align-top dark:border-zinc-800">
                    <td className="py-1 pr-4 font-mono">
                      {p.name}
                      {p.required ? "" : "?"}
                    </td>
                    <td className="py-1 pr-4">{p.in}</td>
                    <td className="py-1">
                      <TypeLine schema={p.schema} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {op.requestBody && (
          <div>
            <h4 className="text-sm font-medium">Request body {Object.keys(op.requestBody.content).join(", ")}</h4>
            {Object.values(op.requestBody.content).map((m, i) => (
              <SchemaView key={i} schema={m.schema} />
            ))}
          </div>
        )}
        <div>
          <h4 className="text-sm font-medium">Responses</h4>
          <dl className="space-y-2 text-sm">
            {Object.entries(op.responses).map(([status, r]) => (
              <ResponseView key={status} status={status} response={r} />
            ))}
          </dl>
        </div>
      </div>
    </details>
  );
}

function ResponseView({ status, response }: { status: string; response: OpenApiResponse }) {
  const ok = Number(status) < 400;
  return (
    <div data-status-code={status}>
      <dt className="flex items-baseline gap-2">
        <span
          className={`rounded px-1.5 font-mono text-xs font-semibold ${ok ? "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100" : "bg-zinc-200 text-zinc-900 dark:bg-zinc-700 dark:text-zinc-100"}`}
        >
          {status}
        </span>
        <span className="min-w-0">
          <Prose text={response.description} />
        </span>
      </dt>
      <dd className="ml-6 space-y-1">
        {Object.entries(response.headers ?? {}).map(([name, h]) => (
          <p key={name} className={`text-xs ${muted}`}>
            header <code className={codeStyle}>{name}</code>: {h.description}
          </p>
        ))}
        {Object.entries(response.content ?? {}).map(([type, m]) => (
          <div key={type}>
            <span className={`text-xs ${muted}`}>{type}:</span> <SchemaView schema={m.schema} />
          </div>
        ))}
      </dd>
    </div>
  );
}

/** An object as the list of its properties; anything else as one line. */
function SchemaView({ schema }: { schema: JsonSchema }) {
  if (schema.properties) return <Properties schema={schema} />;
  // A body of several shapes (a call with a payload, or with a saved command): each drawn in full.
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.every((a) => a.properties)) {
    return (
      <div className="space-y-1 text-sm">
        {alternatives.map((a, i) => (
          <div key={i}>
            <span className={muted}>{i === 0 ? "one of:" : "or:"}</span>
            <Properties schema={a} />
          </div>
        ))}
      </div>
    );
  }
  return (
    <span className="text-sm">
      <TypeLine schema={schema} />
    </span>
  );
}

function Properties({ schema }: { schema: JsonSchema }) {
  const required = new Set(schema.required ?? []);
  return (
    <ul className="space-y-0.5 border-l border-zinc-200 pl-3 text-sm dark:border-zinc-700">
      {Object.entries(schema.properties ?? {}).map(([name, s]) => (
        <li key={name}>
          <code className="font-mono font-medium">
            {name}
            {required.has(name) ? "" : "?"}
          </code>{" "}
          <TypeLine schema={s} />
          {s.properties && <Properties schema={s} />}
        </li>
      ))}
    </ul>
  );
}

/** A schema's type in one line, its constraints and its description. */
function TypeLine({ schema }: { schema: JsonSchema }) {
  const facts = constraintsOf(schema);
  return (
    <>
      <span className="font-mono text-sky-800 dark:text-sky-300">{typeOf(schema)}</span>
      {facts.length > 0 && <span className={`ml-1 text-xs ${muted}`}>({facts.join(", ")})</span>}
      {schema.description && <span className={`ml-1 ${muted}`}>— {schema.description}</span>}
    </>
  );
}

/** `nested`: inside another type (allOf, anyOf, an array), where an object is written out in the line. */
function typeOf(s: JsonSchema, nested = false): ReactNode {
  if (s.$ref) {
    const name = s.$ref.split("/").pop()!;
    return (
      <a href={`#schema-${name}`} className="underline">
        {name}
      </a>
    );
  }
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  const parts = s.anyOf ?? s.oneOf;
  if (parts)
    return join(
      parts.map((p) => typeOf(p, true)),
      " | ",
    );
  if (s.allOf)
    return join(
      s.allOf.map((p) => typeOf(p, true)),
      " & ",
    );
  if (s.properties && nested) {
    // In a line (a part of allOf/anyOf, an array's items): the object's fields, briefly.
    const required = new Set(s.required ?? []);
    const fields = Object.entries(s.properties).map(([name, p]) => (
      <Fragment key={name}>
        {name}
        {required.has(name) ? "" : "?"}: {typeOf(p, true)}
      </Fragment>
    ));
    return (
      <>
        {"{ "}
        {join(fields, "; ")}
        {" }"}
      </>
    );
  }
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.includes("array") && s.items) return <>array of {typeOf(s.items, true)}</>;
  if (types.includes("object") && !s.properties && typeof s.additionalProperties === "object" && Object.keys(s.additionalProperties).length > 0) {
    return <>map of {typeOf(s.additionalProperties, true)}</>;
  }
  if (types.length === 0) return "any";
  return types.map((t) => (t === "string" && s.format ? `string (${s.format})` : t)).join(" | ");
}

function join(nodes: ReactNode[], sep: string): ReactNode {
  return nodes.map((n, i) => (
    <Fragment key={i}>
      {i > 0 && sep}
      {n}
    </Fragment>
  ));
}

function constraintsOf(s: JsonSchema): string[] {
  const out: string[] = [];
  if (s.minimum !== undefined && s.maximum !== undefined) out.push(`${s.minimum}..${s.maximum}`);
  else if (s.minimum !== undefined) out.push(`≥ ${s.minimum}`);
  else if (s.maximum !== undefined) out.push(`≤ ${s.maximum}`);
  if (s.minLength !== undefined || s.maxLength !== undefined) out.push(`length ${s.minLength ?? 0}..${s.maxLength ?? "∞"}`);
  if (s.pattern) out.push(`pattern ${s.pattern}`);
  if (s.default !== undefined) out.push(`default ${JSON.stringify(s.default)}`);
  if (s.additionalProperties === false && s.properties) out.push("no other fields");
  return out;
}
