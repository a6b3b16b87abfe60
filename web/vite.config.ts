import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Two pages: the console (index.html) and GraphiQL (graphiql.html). The
// output in dist/ is committed and embedded in the Go binary, so it must
// not depend on the machine or the time of the build.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0, // data: URLs would need a looser CSP
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      input: { index: "index.html", graphiql: "graphiql.html" },
    },
  },
  server: {
    proxy: { "/graphql": { target: "http://127.0.0.1:8080", ws: true } },
  },
});
