import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Long-lived network servers and a native addon: load them from node_modules at run time.
  serverExternalPackages: ["aedes", "mqtt", "ws", "better-sqlite3", "qlobber"],
  poweredByHeader: false,
  // `npm run typecheck` checks the whole project (tests included) before the build; not twice.
  typescript: { ignoreBuildErrors: true },
};

export default nextConfig;
