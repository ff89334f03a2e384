/** Machine facts for the report: cores, memory, versions of everything measured. */
import { readFile } from "node:fs/promises";
import { cpus, release, totalmem } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "./paths.mjs";
import { exec, runPythonJson } from "./run.mjs";

const OUR_PACKAGES = [
	"packages/raw",
	"packages/npy",
	"packages/mmappickle",
	"packages/hdf5",
	"packages/zarr",
	"packages/core",
	"apps/cli",
];

/** Third-party libraries our adapters run on, with the versions they pin. */
async function ourLibraries() {
	const libs = {};
	for (const dir of OUR_PACKAGES) {
		try {
			const pkg = JSON.parse(
				await readFile(join(REPO_ROOT, dir, "package.json"), "utf8"),
			);
			for (const [name, ver] of Object.entries(pkg.dependencies ?? {}))
				if (!name.startsWith("@arraystore/")) libs[name] = ver;
		} catch {
			// a package that does not exist yet has nothing to report
		}
	}
	return libs;
}

async function git(args) {
	const r = await exec("git", args, { cwd: REPO_ROOT });
	return r.code === 0 ? r.stdout.trim() : null;
}

/** @param {string} python */
export async function machineFacts(python) {
	const cpu = cpus();
	let py;
	try {
		py = await runPythonJson(python, "versions.py", []);
	} catch (err) {
		py = { error: err.message };
	}
	const status = await git(["status", "--porcelain", "--", "packages", "apps"]);
	return {
		date: new Date().toISOString(),
		cores: cpu.length,
		cpu: cpu[0]?.model ?? "unknown",
		memoryBytes: totalmem(),
		kernel: release(),
		node: process.version,
		pythonPath: python,
		python: py,
		libraries: await ourLibraries(),
		commit: await git(["rev-parse", "--short", "HEAD"]),
		// Uncommitted changes in packages/ or apps/ at measuring time (others work in the same tree).
		dirty: status === null ? null : status.length > 0,
	};
}
