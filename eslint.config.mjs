import { defineConfig, globalIgnores } from "eslint/config";
import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

const serverCode = ["@/lib/server/*", "**/lib/server/**", "../server/*", "@/server/*"];

export default defineConfig([
  ...nextVitals,
  ...nextTs,
  {
    // The browser's code: it reaches the server only through the HTTP API and MQTT.
    files: ["app/**", "components/**", "lib/hooks/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: [...serverCode, "node:*"], message: "browser code never imports server code" }] }],
    },
  },
  {
    // Pure protocol, shared by browser and server.
    files: ["lib/rrpc/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ group: [...serverCode, "node:*", "mqtt", "aedes", "better-sqlite3", "ws"], message: "lib/rrpc does no I/O" }] },
      ],
      "no-restricted-globals": ["error", "fetch", "WebSocket", "XMLHttpRequest", "localStorage", "process"],
    },
  },
  {
    files: ["lib/server/**", "server/**", "scripts/**"],
    ignores: ["**/*.test.ts", "lib/server/testing/**"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/testing/*"], message: "test helpers stay out of production code" }] }],
    },
  },
  {
    files: ["lib/**", "server/**"],
    rules: { "import/no-cycle": ["error", { ignoreExternal: true }] },
  },
  globalIgnores(["dist/**", ".next/**", "node_modules/**", "test-results/**", "playwright-report/**", "next-env.d.ts"]),
]);
