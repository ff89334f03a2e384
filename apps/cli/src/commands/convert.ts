import {
	DEFAULT_CONCURRENCY,
	DEFAULT_MAX_MEMORY,
	formatBytes,
	UnsupportedError,
} from "@arraystore/core";
import { builtinRegistry } from "../adapters.js";
import { formatFlag, planOptions, rawLayout } from "../convert-options.js";
import { UsageError } from "../errors.js";
import { type JobResult, type PreparedJob, runJob } from "../job.js";
import { codecWorkers, peakRss, WORKER_BYTES } from "../memory.js";
import {
	type Flags,
	onlyFlags,
	parseJobs,
	parseMemory,
	parseZarrVersion,
} from "../options.js";
import { isDirectoryTarget, prepareJobs } from "../outputs.js";
import { describePlan, planJson } from "../plan-text.js";
import { Reporter, type Streams } from "../progress.js";
import { openSource, type Source } from "../source.js";

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
	"fsync",
	"page-cache",
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
	// Source formats first (sniffing is cheap): an HDF5 source gets fewer codec workers.
	const probe = builtinRegistry({ zarrFormat });
	let hdf5Source = false;
	for (const src of srcs)
		if ((await probe.resolve(src, from?.format)).adapter.name === "hdf5")
			hdf5Source = true;
	const workers = codecWorkers(maxMemory, concurrency, hdf5Source);
	// HDF5 sources decode in as many read workers as Zarr targets get codec workers; each worker
	// is a thread with its own heap, so HDF5 sources reserve the workers' memory twice.
	const registry = builtinRegistry({
		zarrFormat,
		zarrWorkers: workers,
		hdf5ReadWorkers: workers,
	});
	const reserveFor = (format: string): number =>
		workers * WORKER_BYTES * (format === "hdf5" ? 2 : 1);
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
				extraReserveBytes: reserveFor(resolved.adapter.name),
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
						durable: flags.fsync === true,
						unsafeCast: flags["unsafe-cast"] === true,
						maxMemory,
						concurrency,
						extraReserveBytes: reserveFor(job.spec.source.adapter.name),
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

function describeTarget(format: string, zarrFormat: 2 | 3): string {
	return format === "zarr" ? `zarr v${zarrFormat}` : format;
}
