// Helpers of the end-to-end tests: they spawn the built CLI (`node bin/convert.mjs`).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The executable shim. */
export const BIN: string = fileURLToPath(
	new URL("../bin/convert.mjs", import.meta.url),
);

/** What a finished process left. */
export interface Result {
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
	readonly stdout: string;
	readonly stderr: string;
}

/** Options of {@link convert}. */
export interface SpawnOptions {
	readonly cwd?: string;
	readonly env?: Readonly<Record<string, string>>;
	/** Called with each complete stdout line, and the child (to signal it). */
	readonly onLine?: (line: string, child: ReturnType<typeof spawn>) => void;
	/** Called once the child started. */
	readonly onSpawn?: (child: ReturnType<typeof spawn>) => void;
	/** Run this command instead of `node bin/convert.mjs` (e.g. npx). */
	readonly command?: readonly string[];
}

/** Runs `convert ...args` to completion. */
export function convert(
	args: readonly string[],
	options: SpawnOptions = {},
): Promise<Result> {
	const [cmd, ...pre] = options.command ?? [process.execPath, BIN];
	return new Promise((resolve, reject) => {
		const child = spawn(cmd as string, [...pre, ...args], {
			cwd: options.cwd,
			env: { ...process.env, ...options.env },
			stdio: ["ignore", "pipe", "pipe"],
		});
		let stdout = "";
		let stderr = "";
		let pending = "";
		child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
			stdout += chunk;
			if (!options.onLine) return;
			pending += chunk;
			let nl = pending.indexOf("\n");
			while (nl >= 0) {
				options.onLine(pending.slice(0, nl), child);
				pending = pending.slice(nl + 1);
				nl = pending.indexOf("\n");
			}
		});
		child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
			stderr += chunk;
		});
		child.on("error", reject);
		child.on("close", (code, signal) =>
			resolve({ code, signal, stdout, stderr }),
		);
		options.onSpawn?.(child);
	});
}

/** The JSON lines of a `--json` run. */
export function events(stdout: string): Record<string, unknown>[] {
	return stdout
		.split("\n")
		.filter((l) => l.trim() !== "")
		.map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Runs `tasks` with at most `limit` at a time. */
export async function pool<T>(
	limit: number,
	tasks: readonly (() => Promise<T>)[],
): Promise<T[]> {
	const out: T[] = new Array(tasks.length);
	let next = 0;
	const worker = async () => {
		while (next < tasks.length) {
			const i = next++;
			out[i] = await (tasks[i] as () => Promise<T>)();
		}
	};
	await Promise.all(
		Array.from({ length: Math.min(limit, tasks.length) }, worker),
	);
	return out;
}
