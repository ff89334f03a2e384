/**
 * One conversion pair: our converter, each Python peer and `cp` of the source, on the same
 * input, interleaved run by run (ours, peers, cp; repeated), each in its own process.
 *
 * Before every measured run: the previous output is deleted, `sync` flushes dirty pages and the disks go quiet (so no
 * run pays for an earlier run's writeback) and the input is read once (warm page cache). Writes
 * are not fsync'd by anyone, cp included: the numbers are warm-cache, page-cache-write numbers.
 */
import { basename, join } from "node:path";
import { CONVERT_BIN, PYTHON_DIR } from "./paths.mjs";
import {
	du,
	errorLine,
	measure,
	median,
	remove,
	runPythonJson,
	sync,
	warm,
} from "./run.mjs";

/**
 * @typedef {object} ToolResult
 * @property {"ours" | "peer" | "cp"} tool
 * @property {string} name
 * @property {string[]} argv
 * @property {string | null} error
 * @property {import("./run.mjs").Sample[]} samples
 * @property {number | null} seconds median wall
 * @property {number | null} mbps array MB (1e6 B, uncompressed) per second at the median
 * @property {number | null} peakRssBytes max over runs
 * @property {number | null} outputBytes on disk
 * @property {boolean | null} verified output read back by the Python libraries = the source
 * @property {string | null} [layout] chunks and codecs of the output as the file states them
 */

/**
 * Measures our converter, the peers and cp for `argvOf` tools.
 * @param {object} o
 * @param {string} o.label
 * @param {string} o.python
 * @param {number} o.runs
 * @param {number} o.arrayBytes
 * @param {string} o.src
 * @param {{ tool: string, name: string, argv: (out: string) => string[], python: boolean, out: string }[]} o.tools
 * @param {boolean} o.verify
 * @param {string} o.sha256 expected content
 * @param {(s: string) => void} o.log
 */
export async function benchTools(o) {
	/** @type {ToolResult[]} */
	const results = o.tools.map((t) => ({
		tool: t.tool,
		name: t.name,
		argv: t.argv(t.out),
		python: t.python,
		out: t.out,
		error: null,
		samples: [],
		seconds: null,
		mbps: null,
		peakRssBytes: null,
		outputBytes: null,
		verified: null,
	}));
	for (let run = 0; run < o.runs; run++) {
		for (const r of results) {
			if (r.error) continue;
			await remove(r.out);
			await sync();
			await warm(o.src);
			const s = await measure(o.python, r.argv, {
				python: r.python,
				cwd: PYTHON_DIR,
			});
			if (s.rc !== 0) {
				r.error = `exit ${s.rc}: ${errorLine(s.stderr || s.stdout)}`;
				o.log(`  [${o.label}] ${r.tool} FAILED ${r.error}`);
				continue;
			}
			r.samples.push({ ...s, stdout: undefined, stderr: undefined });
			o.log(
				`  [${o.label}] ${r.tool} run ${run + 1}/${o.runs}: ${s.wall.toFixed(2)} s, ${(o.arrayBytes / 1e6 / s.wall).toFixed(0)} MB/s, peak ${(s.maxrssBytes / 1e6).toFixed(0)} MB, CPU ${((s.user + s.sys) / s.wall).toFixed(2)} cores`,
			);
		}
	}
	for (const r of results) {
		if (r.samples.length) {
			r.seconds = median(r.samples.map((s) => s.wall));
			r.mbps = o.arrayBytes / 1e6 / r.seconds;
			r.peakRssBytes = Math.max(...r.samples.map((s) => s.maxrssBytes));
			r.cpuCores = median(r.samples.map((s) => (s.user + s.sys) / s.wall));
			r.outputBytes = await du(r.out);
			if (o.verify && r.tool !== "cp") {
				const v = await verifyOutput(o, r);
				r.verified = v.ok;
				r.layout = v.layout;
			}
		}
		await remove(r.out);
	}
	return results;
}

/** Reads an output back with numpy/h5py/tensorstore and compares it with the source. */
async function verifyOutput(o, r) {
	try {
		const v = await runPythonJson(o.python, "verify.py", [r.out]);
		const ok = v.sha256 === o.sha256 && v.dtype === "<f4";
		if (!ok)
			o.log(`  [${o.label}] ${r.tool} output DIFFERS: ${JSON.stringify(v)}`);
		return { ok, layout: v.layout };
	} catch (err) {
		o.log(`  [${o.label}] ${r.tool} output unreadable: ${err.message}`);
		return { ok: false, layout: null };
	}
}

/**
 * A pair at one data set: ours, every peer, cp of the source.
 * @param {import("./pairs.mjs").Pair} pair
 * @param {object} ctx
 * @param {import("./data.mjs").Dataset} ctx.data
 * @param {string} ctx.python
 * @param {number} ctx.runs
 * @param {string} ctx.outDir
 * @param {boolean} ctx.verify
 * @param {boolean} [ctx.oursOnly] scaling runs: our converter only (and cp for uncompressed pairs)
 * @param {(s: string) => void} ctx.log
 */
export async function benchPair(pair, ctx) {
	const src = ctx.data.files[pair.source];
	const pc = {
		files: ctx.data.files,
		shape: ctx.data.shape,
		chunks: ctx.chunks,
		shards: ctx.shards,
	};
	const out = (tag) => join(ctx.outDir, `${pair.id}.${tag}${pair.ext}`);
	const tools = [
		{
			tool: "ours",
			name: "arraystore convert",
			argv: (dst) => [
				process.execPath,
				CONVERT_BIN,
				src,
				dst,
				...pair.ours(pc),
				"--quiet",
				"--overwrite",
			],
			python: false,
			out: out("ours"),
		},
	];
	if (!ctx.oursOnly) {
		pair.peers.forEach((p, i) => {
			tools.push({
				tool: "peer",
				name: p.name,
				argv: (dst) => {
					const [script, ...rest] = p.argv(pc, src, dst);
					return [ctx.python, join(PYTHON_DIR, script), ...rest];
				},
				python: true,
				out: out(`peer${i}`),
			});
		});
	}
	// Scaling runs keep cp for the uncompressed pairs: their target is a ratio to it.
	if (!ctx.oursOnly || pair.uncompressed)
		tools.push({
			tool: "cp",
			name: `cp -r ${basename(src)}`,
			argv: (dst) => ["cp", "-r", src, dst],
			python: false,
			out: join(ctx.outDir, `${pair.id}.cp`),
		});
	const results = await benchTools({
		label: pair.id,
		python: ctx.python,
		runs: ctx.runs,
		arrayBytes: ctx.data.bytes,
		src,
		tools,
		verify: ctx.verify,
		sha256: ctx.data.sha256,
		log: ctx.log,
	});
	return summarise(pair, ctx.data, results);
}

function summarise(pair, data, results) {
	const ours = results.find((r) => r.tool === "ours");
	const peers = results.filter((r) => r.tool === "peer");
	const cp = results.find((r) => r.tool === "cp") ?? null;
	const best = peers
		.filter((p) => p.mbps !== null)
		.sort((a, b) => b.mbps - a.mbps)[0];
	return {
		id: pair.id,
		title: pair.title,
		uncompressed: pair.uncompressed,
		arrayBytes: data.bytes,
		sourceBytes: data.onDisk[pair.source],
		ours,
		peers,
		bestPeer: best?.name ?? null,
		cp,
		ratio: ours?.mbps && best?.mbps ? ours.mbps / best.mbps : null,
		ratioCp: ours?.mbps && cp?.mbps ? ours.mbps / cp.mbps : null,
	};
}
