/**
 * Child processes: plain runs (setup, verification) and measured runs through
 * python/measure.py, which every measured command goes through alike (wall time from fork to
 * wait, peak RSS from getrusage(RUSAGE_CHILDREN) of the one child, user/sys CPU).
 */
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { PYTHON_DIR } from "./paths.mjs";

// OpenBLAS variables set for this machine can break or skew numpy; the Python benchmark
// commands run without them (and only those: node children keep the environment as is).
const PYTHON_UNSET = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

/** The environment for Python commands. */
export function pythonEnv() {
	const env = { ...process.env };
	for (const k of PYTHON_UNSET) delete env[k];
	return env;
}

/**
 * Runs a command to completion, collecting stdout and stderr.
 * @param {string} cmd
 * @param {readonly string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string }} [options]
 * @returns {Promise<{ code: number, stdout: string, stderr: string }>}
 */
export function exec(cmd, args, options = {}) {
	return new Promise((resolve, reject) => {
		const child = spawn(cmd, args, {
			env: options.env ?? process.env,
			cwd: options.cwd,
			stdio: ["ignore", "pipe", "pipe"],
		});
		const out = [];
		const err = [];
		child.stdout.on("data", (d) => out.push(d));
		child.stderr.on("data", (d) => err.push(d));
		child.on("error", reject);
		child.on("close", (code) =>
			resolve({
				code: code ?? 1,
				stdout: Buffer.concat(out).toString("utf8"),
				stderr: Buffer.concat(err).toString("utf8"),
			}),
		);
	});
}

/**
 * Runs a Python script of python/ and parses the JSON it prints last; throws with its stderr
 * on failure.
 * @param {string} python
 * @param {string} script
 * @param {readonly string[]} args
 */
export async function runPythonJson(python, script, args) {
	const r = await exec(python, [join(PYTHON_DIR, script), ...args], {
		env: pythonEnv(),
		cwd: PYTHON_DIR,
	});
	if (r.code !== 0)
		throw new Error(`${script} failed (exit ${r.code}): ${tail(r.stderr)}`);
	return lastJson(r.stdout);
}

/**
 * @typedef {object} Sample
 * @property {number} rc exit code of the measured command
 * @property {number} wall seconds
 * @property {number} maxrssBytes peak resident set size
 * @property {number} user user CPU seconds
 * @property {number} sys system CPU seconds
 * @property {string} stdout
 * @property {string} stderr
 */

/**
 * One measured run: `cmd args` in its own process under measure.py.
 * @param {string} python
 * @param {readonly string[]} argv command and arguments
 * @param {{ python?: boolean, cwd?: string }} options `python`: strip the OpenBLAS variables
 * @returns {Promise<Sample>}
 */
export async function measure(python, argv, options = {}) {
	const env = options.python ? pythonEnv() : process.env;
	const r = await exec(
		python,
		[join(PYTHON_DIR, "measure.py"), "--", ...argv],
		{
			env,
			cwd: options.cwd,
		},
	);
	if (r.code !== 0) throw new Error(`measure.py failed: ${tail(r.stderr)}`);
	return lastJson(r.stdout);
}

/**
 * Flushes dirty pages so one run's writeback does not land in the next run's time, then waits
 * (up to 15 s) for the disks to go quiet for 2 s: `sync` returns once the data is written, but
 * the file system keeps working after it (journal commits, and with a `discard` mount the
 * discards of files just deleted). On the benchmark machine that tail made a 2 GiB `cp` take
 * 0.6 s or 5.9 s depending on what ran before it.
 */
export async function sync() {
	await exec("sync", []);
	await diskQuiet(2000, 15000);
}

// Sum of sectors written and discarded, I/Os in flight and flushes over the block devices
// (/proc/diskstats; null where it cannot be read, e.g. not Linux): any change is activity.
async function diskActivity() {
	try {
		const text = await readFile("/proc/diskstats", "utf8");
		let sum = 0;
		for (const line of text.split("\n")) {
			const f = line.trim().split(/\s+/);
			if (f.length < 14 || /^(loop|ram|zram)/.test(f[2] ?? "")) continue;
			// Fields 10 (sectors written), 12 (I/Os in flight), 17 (sectors discarded, kernels
			// ≥ 4.18) and 19 (flush requests, ≥ 5.5) of Documentation/admin-guide/iostats.rst.
			sum += Number(f[9]) + Number(f[11]);
			if (f.length > 16) sum += Number(f[16]);
			if (f.length > 18) sum += Number(f[18]);
		}
		return sum;
	} catch {
		return null;
	}
}

async function diskQuiet(quietMs, maxMs) {
	const step = 250;
	let last = await diskActivity();
	if (last === null) return;
	let quiet = 0;
	for (let waited = 0; waited < maxMs && quiet < quietMs; waited += step) {
		await new Promise((r) => setTimeout(r, step));
		const now = await diskActivity();
		quiet = now === last ? quiet + step : 0;
		last = now;
	}
}

/**
 * Reads every file under `path` once so that it sits in the page cache (warm-cache runs).
 * @param {string} path
 */
export async function warm(path) {
	const s = await stat(path);
	if (s.isDirectory()) {
		for (const e of await readdir(path, { withFileTypes: true }))
			await warm(join(path, e.name));
		return;
	}
	await new Promise((resolve, reject) => {
		const rs = createReadStream(path, { highWaterMark: 8 << 20 });
		rs.on("data", () => {});
		rs.on("end", resolve);
		rs.on("error", reject);
	});
}

/** @param {string} path */
export async function remove(path) {
	await rm(path, { recursive: true, force: true });
	// The converter's leftovers of an interrupted or failed run.
	await rm(`${path}.partial`, { recursive: true, force: true });
	await rm(`${path}.partial.journal`, { recursive: true, force: true });
}

/** @param {string} path bytes on disk of a file or directory tree */
export async function du(path) {
	const s = await stat(path).catch(() => null);
	if (!s) return 0;
	if (!s.isDirectory()) return s.size;
	let total = 0;
	for (const e of await readdir(path)) total += await du(join(path, e));
	return total;
}

/** @param {readonly number[]} xs */
export function median(xs) {
	const s = [...xs].sort((a, b) => a - b);
	const n = s.length;
	if (n === 0) return Number.NaN;
	return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** @param {string} text */
export function lastJson(text) {
	const lines = text.trim().split("\n");
	for (let i = lines.length - 1; i >= 0; i--) {
		const line = lines[i].trim();
		if (line.startsWith("{")) return JSON.parse(line);
	}
	throw new Error(`no JSON in output: ${tail(text)}`);
}

/**
 * The line of a failed command's stderr that says what went wrong: the first "XxxError: …" or
 * "convert: …" line, else the last line that is not Node's version banner.
 * @param {string} text
 */
export function errorLine(text) {
	const lines = text
		.split("\n")
		.map((l) => l.trim())
		.filter((l) => l && !/^Node\.js v/.test(l) && !l.startsWith("at "));
	const hit = lines.find((l) =>
		/^(\w*Error|\w+Exception|convert:|error:)/i.test(l),
	);
	return (hit ?? lines.at(-1) ?? "").slice(0, 300);
}

/** Last lines of a message, for errors. */
export function tail(text, n = 6) {
	return text.trim().split("\n").slice(-n).join("\n");
}
