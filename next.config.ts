import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Long-lived network servers and a native addon: load them from node_modules at run time.
  serverExternalPackages: ["aedes", "mqtt", "ws", "better-sqlite3", "qlobber"],
  poweredByHeader: false,
};

export default nextConfig;
