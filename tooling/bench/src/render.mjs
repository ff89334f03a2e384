/**
 * Re-renders the Markdown of an earlier run from its JSON, without measuring anything:
 *   node src/render.mjs [results/latest.json]   → writes results/latest.md beside it and prints it
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BENCH_DIR } from "./paths.mjs";
import { toMarkdown } from "./report.mjs";

const path = process.argv[2] ?? join(BENCH_DIR, "results", "latest.json");
const md = toMarkdown(JSON.parse(await readFile(path, "utf8")));
await writeFile(path.replace(/\.json$/, ".md"), md);
process.stdout.write(md);
