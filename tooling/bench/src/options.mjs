/** Command-line options of `pnpm bench`. */
import { isAbsolute, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { PAIRS } from "./pairs.mjs";
import { BENCH_DIR, REPO_ROOT } from "./paths.mjs";
import { SLAB_FORMATS } from "./slabs.mjs";

export const USAGE = `pnpm bench [-- options]   (from the repository root)

  --size SIZE        array bytes, float32 (default 2GiB; units B KiB MiB GiB KB MB GB)
  --runs N           measured runs per tool, median reported (default 3)
  --pairs LIST       conversion pairs, comma-separated ids or "all"/"none" (default all):
                     ${PAIRS.map((p) => p.id).join(", ")}
  --slabs LIST       random slab reads per format, ids or "all"/"none" (default all):
                     ${SLAB_FORMATS.map((s) => s.id).join(", ")}
  --slab-count N     slabs per run (default 1000)
  --scaling          also run the scaling pairs at --size and at --scaling-size
  --scaling-size S   (default 8GiB)
  --out DIR          where latest.json and latest.md go, relative to the repository root
                     (default tooling/bench/results)
  --tmp DIR          where the generated data goes (default the OS temp dir); removed at the end
  --keep             keep the generated data and outputs
  --no-verify        skip reading every output back with the Python libraries
  --profile PAIR     after the runs, profile our converter on PAIR (node --cpu-prof) and
                     summarise where the time goes
  --wait-idle MIN    first wait up to MIN minutes for the 1-minute load average to drop
                     below 0.5 (other work on the machine skews every number)
  --python PATH      Python with numpy, h5py, tensorstore (default python3)
  --quick            smoke test: 16 MiB, 1 run, 200 slabs (options given explicitly still win)
  --help`;

/** Bytes from "2GiB", "512MiB", "1e9", "3GB". */
export function parseSize(text) {
	const m = /^\s*([\d.e+]+)\s*([KMGT]i?B|B)?\s*$/i.exec(text);
	if (!m) throw new Error(`bad size: ${text}`);
	const n = Number(m[1]);
	const unit = (m[2] ?? "B").toUpperCase();
	const mult = {
		B: 1,
		KB: 1e3,
		MB: 1e6,
		GB: 1e9,
		TB: 1e12,
		KIB: 2 ** 10,
		MIB: 2 ** 20,
		GIB: 2 ** 30,
		TIB: 2 ** 40,
	}[unit];
	if (!Number.isFinite(n) || n <= 0 || mult === undefined)
		throw new Error(`bad size: ${text}`);
	return Math.round(n * mult);
}

/** @param {string} text @param {readonly { id: string }[]} known @param {string} what */
function pick(text, known, what) {
	if (text === "all") return known.map((k) => k.id);
	if (text === "none" || text === "") return [];
	const ids = text.split(",").map((s) => s.trim());
	for (const id of ids)
		if (!known.some((k) => k.id === id))
			throw new Error(
				`unknown ${what} "${id}" (known: ${known.map((k) => k.id).join(", ")})`,
			);
	return ids;
}

/**
 * @param {readonly string[]} argv
 */
export function parseOptions(argv) {
	// pnpm/turbo may hand over a leading "--".
	const args = argv[0] === "--" ? argv.slice(1) : argv;
	const { values } = parseArgs({
		args,
		options: {
			size: { type: "string" },
			runs: { type: "string" },
			pairs: { type: "string", default: "all" },
			slabs: { type: "string", default: "all" },
			"slab-count": { type: "string" },
			scaling: { type: "boolean", default: false },
			"scaling-size": { type: "string", default: "8GiB" },
			out: { type: "string" },
			tmp: { type: "string" },
			keep: { type: "boolean", default: false },
			"no-verify": { type: "boolean", default: false },
			profile: { type: "string" },
			python: { type: "string", default: "python3" },
			"wait-idle": { type: "string", default: "0" },
			quick: { type: "boolean", default: false },
			help: { type: "boolean", default: false },
		},
		allowPositionals: false,
	});
	const quick = values.quick;
	const runs = Number(values.runs ?? (quick ? 1 : 3));
	if (!Number.isInteger(runs) || runs < 1)
		throw new Error("--runs must be ≥ 1");
	const slabCount = Number(values["slab-count"] ?? (quick ? 200 : 1000));
	if (!Number.isInteger(slabCount) || slabCount < 1)
		throw new Error("--slab-count must be ≥ 1");
	const out = values.out ?? join(BENCH_DIR, "results");
	if (values.profile !== undefined) pick(values.profile, PAIRS, "pair");
	return {
		help: values.help,
		quick,
		size: parseSize(values.size ?? (quick ? "16MiB" : "2GiB")),
		runs,
		pairs: pick(values.pairs, PAIRS, "pair"),
		slabs: pick(values.slabs, SLAB_FORMATS, "slab format"),
		slabCount,
		scaling: values.scaling,
		scalingSize: parseSize(values["scaling-size"]),
		out: isAbsolute(out) ? out : resolve(REPO_ROOT, out),
		tmp: values.tmp,
		keep: values.keep,
		verify: !values["no-verify"],
		profile: values.profile,
		python: values.python,
		waitIdleMinutes: Number(values["wait-idle"]),
		argv: args,
	};
}
