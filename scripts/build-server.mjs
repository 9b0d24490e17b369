// `npm run build`, after `next build`: compiles the server entry point (server/main.ts) and the
// store's writer thread into dist/, so that `npm start` runs plain JavaScript. Packages stay in
// node_modules; only the project's own code is bundled, once.
import { build } from "esbuild";

const common = { bundle: true, platform: "node", target: "node20", format: "esm", packages: "external", sourcemap: true, logLevel: "warning" };
await build({ ...common, entryPoints: ["server/main.ts"], outfile: "dist/server.mjs" });
await build({ ...common, entryPoints: ["lib/server/store/writer-thread.mjs"], outfile: "dist/writer-thread.mjs" });
