/**
 * `convert SRC DST [options]`: plans every output first (so refusals come before anything is
 * written), prints the plan with `--dry-run`, else writes each output safely and reports.
 * A DST ending in "/" is a directory: single-array formats get one file per array, container
 * formats one container named after the source.
 */
import { basename, extname, join } from "node:path";
import {
	type AdapterRegistry,
	type CodecInfo,
	DEFAULT_CONCURRENCY,
	DEFAULT_MAX_MEMORY,
	type DType,
	defaultChunks,
	formatBytes,
	InvalidSelectionError,
	isVString,
	type Layout,
	normalizePath,
	type TreePlanOptions,
	UnsupportedError,
} from "@arraystore/core";
import {
	builtinRegistry,
	FORMAT_ALIASES,
	OUTPUT_EXTENSIONS,
} from "../adapters.js";
import { UsageError } from "../errors.js";
import {
	type JobResult,
	type PreparedJob,
	prepareJob,
	runJob,
} from "../job.js";
import { codecWorkers, peakRss, WORKER_BYTES } from "../memory.js";
import {
	checkDTypeText,
	type Flags,
	onlyFlags,
	parseCodecs,
	parseCount,
	parseJobs,
	parseMemory,
	parseOrder,
	parseShapeList,
	parseZarrVersion,
} from "../options.js";
import { describePlan, planJson } from "../plan-text.js";
import { Reporter, type Streams } from "../progress.js";
import { openSource, type Source, streamingOptions } from "../source.js";

/** What a command gets from the shell. */
export interface CommandContext extends Streams {
	readonly isTTY: boolean;
	readonly env: Readonly<Record<string, string | undefined>>;
	readonly signal: AbortSignal;
}

const CONVERT_FLAGS: readonly (keyof Flags)[] = [
	"from",
	"to",
	"dataset",
	"name",
	"dtype",
	"shape",
	"offset",
	"order",
	"chunks",
	"codec",
	"zarr-version",
	"shards",
	"unsafe-cast",
	"max-memory",
	"jobs",
	"overwrite",
	"resume",
	"verify",
	"dry-run",
	"json",
	"quiet",
	"debug",
	"follow-external-links",
];

/** Runs `convert SRC... DST`. Returns the exit code. */
export async function convertCommand(
	positionals: readonly string[],
	flags: Flags,
	ctx: CommandContext,
): Promise<number> {
	onlyFlags(flags, CONVERT_FLAGS, "convert");
	if (positionals.length < 2)
		throw new UsageError(
			"convert needs a source and a destination: convert SRC DST",
		);
	const srcs = positionals.slice(0, -1);
	const dst = positionals[positionals.length - 1] ?? "";
	if (srcs.length > 1 && !isDirectoryTarget(dst))
		throw new UsageError(
			`several sources go into a directory: end DST with "/" (got ${JSON.stringify(dst)})`,
		);
	if (srcs.length > 1 && (flags.dataset ?? flags.name) !== undefined)
		throw new UsageError("--dataset and --name take one source");
	const from =
		flags.from === undefined ? undefined : formatFlag(flags.from, "--from");
	const to = flags.to === undefined ? undefined : formatFlag(flags.to, "--to");
	const zarrFormat =
		flags["zarr-version"] !== undefined
			? parseZarrVersion(flags["zarr-version"])
			: (to?.zarrFormat ?? 3);
	const maxMemory =
		flags["max-memory"] !== undefined
			? parseMemory(flags["max-memory"])
			: DEFAULT_MAX_MEMORY;
	const concurrency =
		flags.jobs !== undefined ? parseJobs(flags.jobs) : DEFAULT_CONCURRENCY;
	const mode = flags.json
		? "json"
		: flags.quiet
			? "quiet"
			: ctx.isTTY
				? "bar"
				: "log";
	// Every option value is checked before any file is touched (usage errors come first).
	rawLayout(flags);
	planOptions(flags, { rawInput: false, maxMemory, concurrency, zarrFormat });
	const reporter = new Reporter(mode, ctx);
	const workers = codecWorkers(maxMemory, concurrency);
	const registry = builtinRegistry({ zarrFormat, zarrWorkers: workers });
	const sources: Source[] = [];
	try {
		const jobs: PreparedJob[] = [];
		for (const src of srcs) {
			// Each source, with a raw layout when it is raw.
			const resolved = await registry.resolve(src, from?.format);
			const rawInput = resolved.adapter.name === "raw";
			if (!rawInput) {
				if (flags.shape !== undefined)
					throw new UsageError("--shape describes raw input only");
				if (flags.offset !== undefined)
					throw new UsageError("--offset describes raw input only");
			}
			const source = await openSource(registry, src, {
				format: resolved.adapter.name,
				layout: rawInput ? rawLayout(flags) : {},
				followExternalLinks: flags["follow-external-links"] === true,
			});
			sources.push(source);
			const base = {
				...planOptions(flags, { rawInput, maxMemory, concurrency, zarrFormat }),
				extraReserveBytes: workers * WORKER_BYTES,
			};
			jobs.push(
				...(await prepareJobs(
					registry,
					source,
					dst,
					to?.format,
					zarrFormat,
					base,
					flags,
					srcs.length > 1,
				)),
			);
		}
		if (jobs.length === 0)
			throw new UnsupportedError(
				`${srcs.join(", ")} hold${srcs.length === 1 ? "s" : ""} no array to write into ${dst}`,
			);
		for (const s of sources)
			if (!jobs.some((j) => j.spec.source === s))
				reporter.warn(`${s.file} holds no array; nothing written for it`);
		const seen = new Map<string, string>();
		for (const job of jobs) {
			const other = seen.get(job.paths.final);
			if (other !== undefined)
				throw new UsageError(
					`${other} and ${job.spec.source.file} would both be written to ${job.paths.final}; convert them separately`,
				);
			seen.set(job.paths.final, job.spec.source.file);
		}
		if (flags["dry-run"]) {
			for (const job of jobs) {
				if (mode === "json") reporter.event(planJson(job, maxMemory));
				else ctx.stdout.write(describePlan(job, maxMemory));
			}
			return 0;
		}
		const checkpointEnv = ctx.env.ARRAYSTORE_CHECKPOINT_MS;
		const results: JobResult[] = [];
		const started = Date.now();
		const total = jobs.reduce((s, j) => s + j.plan.totalBytes, 0);
		for (const job of jobs) {
			reporter.event(planJson(job, maxMemory));
			reporter.info(
				`${job.spec.source.file} (${job.spec.source.adapter.name}) → ${job.paths.final} (${describeTarget(job.spec.target.name, zarrFormat)}): ${job.plan.arrays.length} array${job.plan.arrays.length === 1 ? "" : "s"}, ${formatBytes(job.plan.totalBytes)}`,
			);
			await reporter.begin(job.plan.totalBytes, flags.verify === true);
			try {
				results.push(
					await runJob(job, {
						overwrite: flags.overwrite === true,
						resume: flags.resume === true,
						verify: flags.verify === true,
						unsafeCast: flags["unsafe-cast"] === true,
						maxMemory,
						concurrency,
						extraReserveBytes: workers * WORKER_BYTES,
						signal: ctx.signal,
						reporter,
						...(checkpointEnv !== undefined && /^\d+$/.test(checkpointEnv)
							? { checkpointInterval: Number(checkpointEnv) }
							: {}),
					}),
				);
			} finally {
				reporter.end();
			}
		}
		const seconds = (Date.now() - started) / 1000;
		for (const r of results) {
			for (const n of r.report.notCarried)
				reporter.warn(`not carried: ${n.path} ${n.what}: ${n.reason}`);
			for (const c of r.report.dtypeChanges)
				reporter.warn(
					`dtype changed (the target cannot keep the byte order): ${c}`,
				);
		}
		if (mode === "json") {
			reporter.event({
				event: "done",
				outputs: results.map((r) => ({
					output: r.output,
					arrays: r.report.arrays,
					groups: r.report.plan.groups.map((g) => g.target),
					notCarried: r.report.notCarried,
					dtypeChanges: r.report.dtypeChanges,
					resumedBlocks: r.resumedBlocks,
				})),
				bytes: total,
				seconds,
				peakRss: peakRss(),
				maxMemory,
			});
		} else if (mode !== "quiet") {
			const arrays = results.reduce((s, r) => s + r.report.arrays.length, 0);
			const resumed = results.reduce((s, r) => s + r.resumedBlocks, 0);
			const where =
				results.length === 1
					? (results[0]?.output ?? dst)
					: `${results.length} outputs in ${dst}`;
			ctx.stdout.write(
				`converted ${arrays} array${arrays === 1 ? "" : "s"} (${formatBytes(total)}) in ${seconds.toFixed(1)} s → ${where}${resumed > 0 ? ` (resumed: ${resumed} blocks were already written)` : ""}${flags.verify ? ", verified" : ""}\n`,
			);
		}
		return 0;
	} finally {
		for (const source of sources)
			await source.container.close().catch(() => {});
	}
}

// --- internal ---

// "out/" (or "out\\"): a directory receiving one output per source or per array.
function isDirectoryTarget(dst: string): boolean {
	return /[/\\]$/.test(dst);
}

function formatFlag(
	text: string,
	flag: string,
): { format: string; zarrFormat?: 2 | 3 } {
	const f = FORMAT_ALIASES[text.trim().toLowerCase()];
	if (!f)
		throw new UsageError(
			`${flag} must be one of ${Object.keys(FORMAT_ALIASES).join(", ")}, got ${JSON.stringify(text)}`,
		);
	return f;
}

function describeTarget(format: string, zarrFormat: 2 | 3): string {
	return format === "zarr" ? `zarr v${zarrFormat}` : format;
}

// --dtype --shape --offset --order of raw input (the sidecar is used when they are absent).
function rawLayout(flags: Flags): Partial<Layout> {
	return {
		...(flags.dtype !== undefined
			? { dtype: checkDTypeText(flags.dtype) }
			: {}),
		...(flags.shape !== undefined
			? { shape: parseShapeList(flags.shape, "--shape") }
			: {}),
		...(flags.offset !== undefined
			? { offset: parseCount(flags.offset, "--offset") }
			: {}),
		...(flags.order !== undefined ? { order: parseOrder(flags.order) } : {}),
	};
}

function planOptions(
	flags: Flags,
	ctx: {
		readonly rawInput: boolean;
		readonly maxMemory: number;
		readonly concurrency: number;
		readonly zarrFormat: 2 | 3;
	},
): TreePlanOptions {
	const chunks =
		flags.chunks !== undefined
			? parseShapeList(flags.chunks, "--chunks", 1)
			: undefined;
	const codecs =
		flags.codec !== undefined ? parseCodecs(flags.codec) : undefined;
	const shards =
		flags.shards !== undefined
			? parseShapeList(flags.shards, "--shards", 1)
			: undefined;
	if (shards && ctx.zarrFormat !== 3)
		throw new UsageError("--shards needs Zarr v3 output");
	if (flags["unsafe-cast"] && (ctx.rawInput || flags.dtype === undefined))
		throw new UsageError(
			"--unsafe-cast goes with --dtype (a cast of the output)",
		);
	const layout = shards ? shardLayout(shards, chunks, codecs) : undefined;
	return {
		maxMemory: ctx.maxMemory,
		concurrency: ctx.concurrency,
		followExternalLinks: flags["follow-external-links"] === true,
		...(chunks ? { chunks } : {}),
		...(codecs ? { codecs } : {}),
		...(layout ? { layout } : {}),
		...(!ctx.rawInput && flags.dtype !== undefined
			? { dtype: checkDTypeText(flags.dtype) }
			: {}),
		...(!ctx.rawInput && flags.order !== undefined
			? { order: parseOrder(flags.order) }
			: {}),
		unsafeCast: flags["unsafe-cast"] === true,
	};
}

// --shards: shard shape as the Zarr chunk grid, --chunks (or ~1 MiB) as the inner chunks.
function shardLayout(
	shards: readonly number[],
	inner: readonly number[] | undefined,
	codecs: readonly CodecInfo[] | undefined,
): NonNullable<TreePlanOptions["layout"]> {
	if (inner && inner.length !== shards.length)
		throw new UsageError(
			"--chunks and --shards need the same number of dimensions",
		);
	if (inner?.some((c, d) => (shards[d] as number) % c !== 0))
		throw new UsageError("--shards must be whole multiples of --chunks");
	return (a: { readonly shape: readonly number[]; readonly dtype: DType }) => {
		if (a.shape.length !== shards.length || isVString(a.dtype))
			return undefined;
		const chunkShape =
			inner ??
			defaultChunks(shards, a.dtype.itemsize).map((c, d) => {
				// Inner chunks must tile the shard exactly.
				let x = c;
				while ((shards[d] as number) % x !== 0) x--;
				return x;
			});
		return {
			chunks: shards,
			codecs: [
				{
					name: "sharding_indexed",
					config: {
						chunk_shape: chunkShape,
						codecs: codecs ?? [{ name: "zstd", config: { level: 0 } }],
					},
				},
			],
		};
	};
}

async function prepareJobs(
	registry: AdapterRegistry,
	source: Source,
	dst: string,
	to: string | undefined,
	zarrFormat: 2 | 3,
	base: TreePlanOptions,
	flags: Flags,
	multi: boolean,
): Promise<PreparedJob[]> {
	const datasets = flags.dataset ?? [];
	const names = flags.name ?? [];
	if (names.length > datasets.length)
		throw new UsageError(
			"--name renames a --dataset: give one --dataset per --name",
		);
	let select = datasets.map((d, i) => ({
		source: d,
		...(names[i] !== undefined ? { target: names[i] } : {}),
	}));
	if (select.length === 0 && source.inner !== null)
		select = [{ source: source.inner }];
	const targetOptionsFor = (t: { readonly name: string }) => ({
		zarrFormat,
		...streamingOptions(t.name),
	});
	const directory = isDirectoryTarget(dst);
	const stem = basename(
		source.file.replace(/[/\\]+$/, ""),
		extname(source.file.replace(/[/\\]+$/, "")),
	);
	// An array at the source's root: Zarr keeps it at the root, other containers name it after the source.
	const named = (t: { readonly name: string }): TreePlanOptions => ({
		...base,
		rootName: t.name === "zarr" ? "" : stem,
	});
	if (!directory) {
		let output = dst;
		let rootName: string | undefined;
		// "out.h5#/grp/x" names the array in the target.
		const hash = dst.lastIndexOf("#");
		if (hash > 0) {
			output = dst.slice(0, hash);
			const name = dst.slice(hash + 1);
			if (select.length === 1 && select[0]?.target === undefined)
				select = [{ source: select[0]?.source ?? "", target: name }];
			else if (select.length === 0) rootName = name;
			else throw new UsageError(`${dst}: name the arrays with --name instead`);
		}
		const target =
			to !== undefined ? registry.get(to) : registry.forCreate(output);
		const job = await prepareJob(
			{
				registry,
				source,
				target,
				output,
				planOptions: {
					...named(target),
					...(rootName !== undefined ? { rootName } : {}),
					...(select.length ? { select } : {}),
				},
				targetOptions: targetOptionsFor(target),
			},
			flags.overwrite === true,
		);
		return [job];
	}
	if (to === undefined)
		throw new UsageError(
			"--to is needed when DST is a directory (ends with /)",
		);
	const target = registry.get(to);
	const ext = OUTPUT_EXTENSIONS[target.name] ?? `.${target.name}`;
	if (target.capabilities.hierarchy !== "none") {
		const job = await prepareJob(
			{
				registry,
				source,
				target,
				output: join(dst, `${stem}${ext}`),
				planOptions: { ...named(target), ...(select.length ? { select } : {}) },
				targetOptions: targetOptionsFor(target),
				createParents: true,
			},
			flags.overwrite === true,
		);
		return [job];
	}
	// One file per array: DST/<array path>.<ext> (a root array takes the source's name).
	const paths =
		select.length > 0
			? select.map((s) => s.source)
			: (await source.container.list("", { recursive: true }))
					.filter(
						(e) =>
							e.kind === "array" ||
							e.kind === "softLink" ||
							(e.kind === "externalLink" && flags["follow-external-links"]),
					)
					.map((e) => e.path);
	const jobs: PreparedJob[] = [];
	for (const p of paths) {
		const rel = normalizePath(p);
		// Array names become file names: never let one climb out of DST.
		if (
			rel
				.split("/")
				.some((part) => part === ".." || part === "." || part.includes("\0"))
		)
			throw new InvalidSelectionError(
				`array path ${JSON.stringify(p)} cannot be used as a file name`,
			);
		const output = join(
			dst,
			`${rel === "" ? stem : multi ? `${stem}/${rel}` : rel}${ext}`,
		);
		try {
			jobs.push(
				await prepareJob(
					{
						registry,
						source,
						target,
						output,
						planOptions: { ...base, select: [{ source: p }] },
						targetOptions: targetOptionsFor(target),
						createParents: true,
					},
					flags.overwrite === true,
				),
			);
		} catch (err) {
			// Soft links that lead nowhere are reported by the plan, not fatal here.
			if (
				(err as { code?: string }).code === "UNSUPPORTED" &&
				/holds no array/.test((err as Error).message)
			)
				continue;
			throw err;
		}
	}
	// A source without arrays gives no single-array outputs (reported by the caller).
	return jobs;
}
