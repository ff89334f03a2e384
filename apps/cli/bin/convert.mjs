#!/usr/bin/env node
// Plain-JS shim so the bin exists before any build; the CLI itself lives in ../dist.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

const main = fileURLToPath(new URL("../dist/main.js", import.meta.url));
if (!existsSync(main)) {
	process.stderr.write(
		"convert: the CLI is not built; run `pnpm build` first\n",
	);
	process.exit(1);
}
await import(pathToFileURL(main).href);
