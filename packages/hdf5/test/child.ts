// Runs a script of this package's tests in a child `node` process, for tests that must see a
// process of their own: one that exits by itself, or a peak resident memory that the vitest
// worker's own ~100 MiB and its garbage would otherwise blur. Two kinds:
// - on the sources: through ts-register.mjs, workspace packages resolved to their TypeScript as
//   under vitest. The loader hooks cost ~100 MiB per thread, so never for memory measurements;
// - on the built package (`dist/`, as users run it): plain `node`, rebuilt first when a source
//   is newer than the last build (under turbo, `test` depends on `build` and it never is).
import { execFileSync, spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const REGISTER = fileURLToPath(new URL("./ts-register.mjs", import.meta.url));
const PACKAGE = fileURLToPath(new URL("..", import.meta.url));

/** How a child ended: exit code, its standard output, and whether it was killed at the deadline. */
export interface ChildResult {
	readonly code: number | null;
	readonly out: string;
	readonly timedOut: boolean;
}

/**
 * Runs `script` with `env` added; kills it (SIGKILL) after `ms`. Its stderr goes to ours.
 * `built`: plain JavaScript on `dist/` (see the top of this file), else TypeScript on the sources.
 */
export function runChild(
	script: string,
	env: Record<string, string>,
	ms: number,
	{ built = false }: { built?: boolean } = {},
): Promise<ChildResult> {
	if (built) ensureBuilt();
	const args = built
		? [script]
		: ["--conditions=@arraystore/source", "--import", REGISTER, script];
	return new Promise((resolve) => {
		const child = spawn(process.execPath, args, {
			env: { ...process.env, ...env },
			stdio: ["ignore", "pipe", "inherit"],
		});
		let out = "";
		let timedOut = false;
		child.stdout.on("data", (b: Buffer) => {
			out += b.toString();
		});
		const timer = setTimeout(() => {
			timedOut = true;
			child.kill("SIGKILL");
		}, ms);
		child.on("exit", (code) => {
			clearTimeout(timer);
			resolve({ code, out, timedOut });
		});
	});
}

/** The last line of a child's output, parsed as JSON (the children print one result object). */
export function childJson<T>(r: ChildResult): T {
	const lines = r.out.trim().split("\n");
	return JSON.parse(lines[lines.length - 1] ?? "") as T;
}

/** Newest modification time of the files under `dir`, 0 when there are none. */
function newest(dir: string): number {
	let t = 0;
	for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
		if (e.isFile())
			t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
	}
	return t;
}

/** Runs `tsc -b` for this package (and core) when a source is newer than the last build. */
function ensureBuilt(): void {
	let built = 0;
	try {
		built = statSync(join(PACKAGE, "tsconfig.tsbuildinfo")).mtimeMs;
	} catch {}
	const sources = Math.max(
		newest(join(PACKAGE, "src")),
		newest(join(PACKAGE, "../core/src")),
	);
	if (built >= sources) return;
	const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
	execFileSync(process.execPath, [tsc, "-b"], {
		cwd: PACKAGE,
		stdio: "inherit",
	});
}
