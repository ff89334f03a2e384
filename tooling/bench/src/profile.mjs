/**
 * Where our converter spends its time: one run under `node --cpu-prof` (main thread and every
 * worker thread write a .cpuprofile), summarised as self time per function and per package.
 */
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { PYTHON_DIR } from "./paths.mjs";
import { errorLine, measure, remove, sync, warm } from "./run.mjs";

/** Where a script URL belongs: our package, a dependency, node itself, or V8. */
export function categoryOf(url, functionName) {
	if (!url) {
		// V8's pseudo-frames: (garbage collector), (program), (idle), (root)
		return functionName.startsWith("(") ? functionName : "(native)";
	}
	let m = /\/(packages|apps)\/([^/]+)\//.exec(url);
	if (m && !url.includes("node_modules")) return `@arraystore/${m[2]}`;
	m = /node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(
		url,
	);
	if (m) return m[1];
	m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
	if (m) return m[1];
	if (url.startsWith("node:")) return "node:*";
	if (url.startsWith("wasm://")) return "(wasm)";
	return url;
}

/**
 * Self time per function and per category of one .cpuprofile.
 * @param {{ nodes: any[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} profile
 */
export function summariseProfile(profile) {
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const parent = new Map();
	for (const n of profile.nodes)
		for (const c of n.children ?? []) parent.set(c, n.id);
	// wasm frames carry no library name: charge them to the nearest JS caller's package.
	const categoryOfNode = (n) => {
		const cf = n.callFrame;
		const name = cf.functionName || "(anonymous)";
		if (!cf.url.startsWith("wasm://")) return categoryOf(cf.url, name);
		let p = parent.get(n.id);
		while (p !== undefined) {
			const pn = byId.get(p);
			if (pn?.callFrame.url && !pn.callFrame.url.startsWith("wasm://"))
				return `${categoryOf(pn.callFrame.url, pn.callFrame.functionName)} (wasm)`;
			p = parent.get(p);
		}
		return "(wasm)";
	};
	const self = new Map();
	for (let i = 0; i < profile.samples.length; i++) {
		const id = profile.samples[i];
		const dt = profile.timeDeltas[i + 1] ?? 0;
		self.set(id, (self.get(id) ?? 0) + dt);
	}
	const functions = new Map();
	const categories = new Map();
	let total = 0;
	for (const [id, us] of self) {
		const n = byId.get(id);
		if (!n) continue;
		const cf = n.callFrame;
		const name = cf.functionName || "(anonymous)";
		const cat = categoryOfNode(n);
		const file = cf.url.startsWith("wasm://")
			? cat
			: cf.url
					.replace(/^file:\/\//, "")
					.replace(/^.*\/(packages|apps|node_modules)\//, "$1/");
		const key = cf.url ? `${name} ${file}:${cf.lineNumber + 1}` : name;
		functions.set(key, (functions.get(key) ?? 0) + us);
		categories.set(cat, (categories.get(cat) ?? 0) + us);
		total += us;
	}
	const top = (m, n) =>
		[...m.entries()]
			.sort((a, b) => b[1] - a[1])
			.slice(0, n)
			.map(([k, us]) => ({
				name: k,
				ms: us / 1000,
				share: total ? us / total : 0,
			}));
	return {
		wallMs: (profile.endTime - profile.startTime) / 1000,
		sampledMs: total / 1000,
		categories: top(categories, 12),
		functions: top(functions, 20),
	};
}

/**
 * Profiles our converter once on a pair.
 * @param {object} o
 * @param {string} o.python
 * @param {string[]} o.argv full command (node … convert.mjs SRC DST flags)
 * @param {string} o.src
 * @param {string} o.out
 * @param {string} o.dir where the .cpuprofile files go
 * @param {(s: string) => void} o.log
 */
export async function profileOurs(o) {
	await mkdir(o.dir, { recursive: true });
	const [node, ...rest] = o.argv;
	const argv = [node, "--cpu-prof", "--cpu-prof-dir", o.dir, ...rest];
	await remove(o.out);
	await sync();
	await warm(o.src);
	const s = await measure(o.python, argv, { cwd: PYTHON_DIR });
	await remove(o.out);
	if (s.rc !== 0)
		return { error: `exit ${s.rc}: ${errorLine(s.stderr)}`, threads: [] };
	const threads = [];
	for (const f of (await readdir(o.dir))
		.filter((f) => f.endsWith(".cpuprofile"))
		.sort()) {
		const p = JSON.parse(await readFile(join(o.dir, f), "utf8"));
		// CPU.<date>.<time>.<pid>.<thread id>.<seq>.cpuprofile; thread 0 is the main thread.
		const tid = f.split(".")[4];
		const thread = tid === "0" ? "main thread" : `worker thread ${tid}`;
		threads.push({ file: f, thread, ...summariseProfile(p) });
	}
	o.log(
		`  [profile] ${threads.length} thread profile(s), wall ${s.wall.toFixed(2)} s`,
	);
	return {
		error: null,
		wall: s.wall,
		cpuSeconds: s.user + s.sys,
		peakRssBytes: s.maxrssBytes,
		threads,
	};
}
