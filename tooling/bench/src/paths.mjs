/** Fixed locations of the benchmark package and the repository. */
import { fileURLToPath } from "node:url";

/** tooling/bench */
export const BENCH_DIR = fileURLToPath(new URL("..", import.meta.url));
/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));
/** tooling/bench/python */
export const PYTHON_DIR = fileURLToPath(new URL("../python", import.meta.url));
/** The converter's bin shim (imports apps/cli/dist). */
export const CONVERT_BIN = fileURLToPath(
	new URL("../../../apps/cli/bin/convert.mjs", import.meta.url),
);
/** Our slab reader, run as a child process. */
export const READ_SLABS = fileURLToPath(
	new URL("./read-slabs.mjs", import.meta.url),
);
