/**
 * Python round-trip helpers: writers are proven by the reference implementation reading our
 * output. `python3` (or $ARRAYSTORE_PYTHON) is the modern stack (numpy 2, h5py, tensorstore);
 * $ARRAYSTORE_PYTHON_LEGACY (default: Debian's /usr/bin/python3 when it has zarr) is numpy 1.24,
 * h5py 3.7 / HDF5 1.10, zarr-python 2.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** One Python interpreter and what it can import. */
export interface Python {
	readonly exe: string | null;
	/** True when every module imports. */
	has(...modules: string[]): boolean;
	/** Why `has(...)` is false, for skip messages. */
	missing(...modules: string[]): string;
	/**
	 * Runs `code` with `input` as JSON on stdin (available as the variable `INPUT`); the
	 * script prints one JSON value as its last stdout line, which is returned.
	 */
	run<T = unknown>(code: string, input?: unknown): T;
}

const cache = new Map<string, boolean>();

function makePython(exe: string | null): Python {
	const has = (...modules: string[]): boolean => {
		if (!exe) return false;
		return modules.every((m) => {
			const key = `${exe}:${m}`;
			let ok = cache.get(key);
			if (ok === undefined) {
				ok =
					spawnSync(exe, ["-c", `import ${m}`], { stdio: "ignore" }).status ===
					0;
				cache.set(key, ok);
			}
			return ok;
		});
	};
	return {
		exe,
		has,
		missing: (...modules) =>
			exe === null
				? "python3 not found"
				: `${exe} lacks ${modules.filter((m) => !has(m)).join(", ")}`,
		run<T>(code: string, input?: unknown): T {
			if (!exe) throw new Error("no python interpreter");
			const prelude =
				"import json, sys\nINPUT = json.loads(sys.stdin.read() or 'null')\n";
			const r = spawnSync(exe, ["-c", prelude + code], {
				input: JSON.stringify(input ?? null),
				encoding: "utf8",
				maxBuffer: 256 * 1024 * 1024,
			});
			if (r.status !== 0)
				throw new Error(`python failed (${r.status}): ${r.stderr}`);
			const lines = r.stdout.trim().split("\n");
			return JSON.parse(lines[lines.length - 1] ?? "null") as T;
		},
	};
}

function findExe(candidates: readonly (string | undefined)[]): string | null {
	for (const c of candidates) {
		if (!c) continue;
		if (
			c.includes("/")
				? existsSync(c)
				: spawnSync(c, ["--version"], { stdio: "ignore" }).status === 0
		)
			return c;
	}
	return null;
}

/** The modern stack: numpy 2.x, h5py 3.16, tensorstore, numcodecs, joblib. */
export const python: Python = makePython(
	findExe([process.env.ARRAYSTORE_PYTHON, "python3"]),
);

/** The Debian stack: numpy 1.24, h5py 3.7 (HDF5 1.10), zarr-python 2.13. */
export const pythonLegacy: Python = makePython(
	findExe([process.env.ARRAYSTORE_PYTHON_LEGACY, "/usr/bin/python3"]),
);

/** Prints a visible skip reason (vitest shows skipped tests but not why). */
export function skipNote(what: string, why: string): void {
	process.stderr.write(`[skip] ${what}: ${why}\n`);
}
