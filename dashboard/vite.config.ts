// Vite build of the dashboard: a static bundle under dashboard/dist that any static host
// (the local gateway, `benchwatch dashboard`, a CDN) can serve from any path.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
  },
});
