/**
 * `pnpm bench`: generates the data once, runs every conversion pair with our converter, the best
 * Python tools and cp, the random slab reads and (with --scaling) the larger size, then writes
 * results/latest.json and results/latest.md and prints the Markdown.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { benchPair } from "./bench-pairs.mjs";
import { CHUNKS, generate, SHARDS, writeSlabs } from "./data.mjs";
import { machineFacts } from "./machine.mjs";
import { parseOptions, USAGE } from "./options.mjs";
import { PAIRS } from "./pairs.mjs";
import { CONVERT_BIN } from "./paths.mjs";
import { profileOurs } from "./profile.mjs";
import { toMarkdown } from "./report.mjs";
import { benchSlabs, SLAB_FORMATS } from "./slabs.mjs";

const log = (s) => process.stderr.write(`${s}\n`);

async function main() {
	let opts;
	try {
		opts = parseOptions(process.argv.slice(2));
	} catch (err) {
		log(`bench: ${err.message}\n\n${USAGE}`);
		return 2;
	}
	if (opts.help) {
		process.stdout.write(`${USAGE}\n`);
		return 0;
	}
	const command = [
		"pnpm bench",
		...(opts.argv.length ? ["--", ...opts.argv] : []),
	].join(" ");
	const notes = [];
	if (!existsSync(new URL("../../../apps/cli/dist/main.js", import.meta.url)))
		notes.push(
			"apps/cli/dist/main.js is missing: our converter could not run (build @arraystore/cli).",
		);

	if (opts.waitIdleMinutes > 0) await waitIdle(opts.waitIdleMinutes);
	const loadBefore = loadavg();
	const root = await mkdtemp(join(opts.tmp ?? tmpdir(), "arraystore-bench-"));
	const cleanup = async () => {
		if (!opts.keep) await rm(root, { recursive: true, force: true });
	};
	process.once("SIGINT", () => {
		cleanup().finally(() => process.exit(130));
	});
	try {
		log(`bench: data in ${root}${opts.keep ? " (kept)" : ""}`);
		const machine = await machineFacts(opts.python);
		const pairs = PAIRS.filter((p) => opts.pairs.includes(p.id));
		const slabFormats = SLAB_FORMATS.filter((s) => opts.slabs.includes(s.id));
		const scalingPairs = opts.scaling ? PAIRS.filter((p) => p.scaling) : [];
		const profilePair = PAIRS.find((p) => p.id === opts.profile);
		const needed = new Set([
			...pairs.map((p) => p.source),
			...slabFormats.map((s) => s.source),
			...scalingPairs.map((p) => p.source),
			...(profilePair ? [profilePair.source] : []),
		]);

		const dataDir = join(root, "data");
		const outDir = join(root, "out");
		await mkdir(dataDir, { recursive: true });
		await mkdir(outDir, { recursive: true });
		log(
			`bench: generating ${(opts.size / 2 ** 20).toFixed(0)} MiB as ${[...needed].join(", ")}`,
		);
		const data = await generate({
			python: opts.python,
			dir: dataDir,
			bytes: opts.size,
			formats: needed,
		});
		log(
			`bench: generated in ${Object.values(data.seconds)
				.reduce((a, b) => a + b, 0)
				.toFixed(1)} s, sha256 ${data.sha256.slice(0, 16)}…`,
		);

		const ctx = {
			data,
			python: opts.python,
			runs: opts.runs,
			outDir,
			verify: opts.verify,
			chunks: CHUNKS,
			shards: SHARDS,
			log,
		};
		const pairResults = [];
		for (const pair of pairs) {
			log(`bench: ${pair.title}`);
			pairResults.push(await benchPair(pair, ctx));
		}

		const slabResults = [];
		let slabInfo = null;
		if (slabFormats.length) {
			const slabsPath = join(root, "slabs.json");
			slabInfo = await writeSlabs(slabsPath, data.shape, opts.slabCount);
			for (const f of slabFormats) {
				log(`bench: slab reads, ${f.title}`);
				slabResults.push(
					await benchSlabs(f, {
						python: opts.python,
						runs: opts.runs,
						files: data.files,
						slabsPath,
						log,
					}),
				);
			}
		}

		let profile = null;
		if (profilePair && existsSync(data.files[profilePair.source] ?? "")) {
			log(`bench: profiling ours on ${profilePair.title}`);
			const src = data.files[profilePair.source];
			const out = join(outDir, `profile${profilePair.ext}`);
			const pc = {
				files: data.files,
				shape: data.shape,
				chunks: CHUNKS,
				shards: SHARDS,
			};
			profile = {
				pair: profilePair.id,
				...(await profileOurs({
					python: opts.python,
					argv: [
						process.execPath,
						CONVERT_BIN,
						src,
						out,
						...profilePair.ours(pc),
						"--quiet",
						"--overwrite",
					],
					src,
					out,
					dir: join(root, "profile"),
					log,
				})),
			};
		} else if (profilePair)
			notes.push(
				"profiling skipped: its input was not generated (run it with the default sizes).",
			);

		const scaling = [];
		if (scalingPairs.length) {
			for (const pair of scalingPairs) {
				const done = pairResults.find((p) => p.id === pair.id);
				scaling.push(
					done ?? (await benchPair(pair, { ...ctx, oursOnly: true })),
				);
			}
			// The larger data set replaces the smaller one on disk (they would not both fit in
			// the page cache).
			if (!opts.keep) await rm(dataDir, { recursive: true, force: true });
			const bigDir = join(root, "data-large");
			await mkdir(bigDir, { recursive: true });
			log(
				`bench: generating ${(opts.scalingSize / 2 ** 30).toFixed(1)} GiB for scaling`,
			);
			const big = await generate({
				python: opts.python,
				dir: bigDir,
				bytes: opts.scalingSize,
				formats: new Set(scalingPairs.map((p) => p.source)),
			});
			for (const pair of scalingPairs) {
				log(
					`bench: scaling ${pair.title} at ${(big.bytes / 2 ** 30).toFixed(1)} GiB`,
				);
				scaling.push(
					await benchPair(pair, { ...ctx, data: big, oursOnly: true }),
				);
			}
			if (!opts.keep) await rm(bigDir, { recursive: true, force: true });
		}

		const loadAfter = loadavg();
		if (loadBefore[0] > 0.5 || loadAfter[1] > 2.5)
			notes.push(
				`Other load on the machine: load average ${loadBefore.map((x) => x.toFixed(2)).join(" ")} at the start, ${loadAfter.map((x) => x.toFixed(2)).join(" ")} at the end (1, 5, 15 min); the numbers are skewed by it.`,
			);
		const report = {
			command,
			options: { ...opts, argv: undefined },
			machine: { ...machine, loadBefore, loadAfter },
			data: {
				shape: data.shape,
				bytes: data.bytes,
				sha256: data.sha256,
				onDisk: data.onDisk,
				generateSeconds: data.seconds,
			},
			layout: { chunks: CHUNKS, shards: SHARDS },
			pairs: pairResults,
			slabInfo,
			slabs: slabResults,
			scaling,
			profile,
			notes,
		};
		const md = toMarkdown(report);
		await mkdir(opts.out, { recursive: true });
		// A smoke test must not overwrite the last real measurement.
		const stem = opts.quick ? "quick" : "latest";
		await writeFile(
			join(opts.out, `${stem}.json`),
			`${JSON.stringify(report, null, "\t")}\n`,
		);
		await writeFile(join(opts.out, `${stem}.md`), md);
		process.stdout.write(md);
		log(`bench: wrote ${join(opts.out, `${stem}.json`)} and ${stem}.md`);
		return 0;
	} finally {
		await cleanup();
	}
}

/** Waits until the 1-minute load average is below 0.5, at most `minutes`. */
async function waitIdle(minutes) {
	const until = Date.now() + minutes * 60_000;
	while (loadavg()[0] >= 0.5 && Date.now() < until) {
		log(`bench: waiting for an idle machine (load ${loadavg()[0].toFixed(2)})`);
		await sleep(15_000);
	}
}

process.exitCode = await main();
