/**
 * One output of a conversion: plan it (every refusal happens here, before anything is written),
 * then write it safely — into `<out>.partial`, journaled for resume, renamed into place at the
 * end. An interrupted run keeps the partial output and its journal; the same command resumes.
 */
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import {
	type AdapterRegistry,
	AlreadyExistsError,
	type ArrayAdapter,
	type ContainerStore,
	CopyJournal,
	copyTree,
	fromNodeError,
	isArrayStoreError,
	NotFoundError,
	planHash,
	planTree,
	type TreeCopyReport,
	type TreePlan,
	type TreePlanOptions,
} from "@arraystore/core";
import { garbageCollector } from "./memory.js";
import {
	bootEpoch,
	commitOutput,
	discardPartial,
	fileJournalStorage,
	type OutputPaths,
	outputPaths,
	pathExists,
	sourceFingerprint,
} from "./output.js";
import type { Reporter } from "./progress.js";
import { rootArrayContainer } from "./root-array.js";
import type { Source } from "./source.js";

// Formats whose partial outputs can be continued. HDF5 files are not crash-consistent
// without SWMR, so an interrupted HDF5 output restarts from the beginning.
const RESUMABLE: ReadonlySet<string> = new Set([
	"raw",
	"npy",
	"zarr",
	"mmappickle",
]);

/** What one output needs. */
export interface JobSpec {
	readonly registry: AdapterRegistry;
	readonly source: Source;
	readonly target: ArrayAdapter;
	readonly output: string;
	readonly planOptions: TreePlanOptions;
	/** Adapter options of the target container (`{ zarrFormat }`). */
	readonly targetOptions: Readonly<Record<string, unknown>>;
	/** Create missing parent directories of the output (outputs into a DST/ directory). */
	readonly createParents?: boolean;
}

/** A planned output. */
export interface PreparedJob {
	readonly spec: JobSpec;
	readonly plan: TreePlan;
	readonly paths: OutputPaths;
}

/** Settings of a run. */
export interface RunSettings {
	readonly overwrite: boolean;
	readonly resume: boolean;
	readonly verify: boolean;
	/** fsync at checkpoints and before the output is renamed into place (`--fsync`). */
	readonly durable: boolean;
	readonly unsafeCast: boolean;
	readonly maxMemory: number;
	readonly concurrency: number;
	/** Fixed bytes beyond the engine's reserve (codec threads). */
	readonly extraReserveBytes: number;
	readonly checkpointInterval?: number;
	readonly signal: AbortSignal;
	readonly reporter: Reporter;
}

/** What a finished output reports. */
export interface JobResult {
	readonly output: string;
	readonly report: TreeCopyReport;
	/** Blocks skipped because a previous run had written them. */
	readonly resumedBlocks: number;
}

/**
 * Plans one output.
 * @throws {UnsupportedDTypeError} an array the target cannot express (nothing is created).
 * @throws {AlreadyExistsError} the output exists and `overwrite` is off.
 */
export async function prepareJob(
	spec: JobSpec,
	overwrite: boolean,
): Promise<PreparedJob> {
	const plan = await planTree(
		spec.source.container,
		spec.target,
		spec.planOptions,
	);
	const paths = outputPaths(spec.output, spec.target.name);
	const parent = dirname(resolve(paths.final));
	if (!spec.createParents && !(await pathExists(parent)))
		throw new NotFoundError(`the directory ${parent} does not exist`, {
			target: paths.final,
		});
	if (!overwrite && (await pathExists(paths.final)))
		throw new AlreadyExistsError(
			`${paths.final} already exists; pass --overwrite to replace it`,
			{ target: paths.final },
		);
	return { spec, plan, paths };
}

/** Writes one planned output. */
export async function runJob(
	job: PreparedJob,
	settings: RunSettings,
): Promise<JobResult> {
	const { spec, plan, paths } = job;
	const format = spec.target.name;
	const reporter = settings.reporter;
	const hash = await planHash({
		tool: "arraystore convert",
		journal: 1,
		source: {
			file: resolve(spec.source.file),
			format: spec.source.adapter.name,
			fingerprint: await sourceFingerprint(spec.source.file),
		},
		target: { format, options: spec.targetOptions },
		unsafeCast: settings.unsafeCast,
		groups: plan.groups.map((g) => g.target),
		arrays: plan.arrays.map((a) => ({
			source: a.source,
			target: a.target,
			shape: a.shape,
			dtype: a.dtype.str,
			order: a.order,
			chunks: a.chunks,
			codecs: a.codecs,
			fill: a.fillValue,
			blockShape: a.plan.blockShape,
		})),
	});
	const resumable = RESUMABLE.has(format);
	const storage = fileJournalStorage(paths.journal, await bootEpoch());
	let journal: CopyJournal | undefined;
	let dst: ContainerStore | undefined;
	if (await pathExists(paths.partial)) {
		if (!resumable) {
			const say = settings.resume ? reporter.warn : reporter.info;
			say.call(
				reporter,
				`${format} outputs cannot be resumed; starting ${paths.final} again`,
			);
		} else {
			journal = await CopyJournal.open(storage, hash);
			if (journal.resumed) dst = await reopen(job, reporter);
			else
				reporter.info(
					`discarding ${paths.partial}: it was made with another source or other options`,
				);
			if (!dst) journal = undefined;
		}
	} else if (settings.resume) {
		reporter.info(
			`nothing to resume for ${paths.final}; starting from the beginning`,
		);
	}
	if (!dst) {
		await discardPartial(paths);
		if (spec.createParents)
			await mkdir(dirname(paths.partial), { recursive: true }).catch(
				(err: unknown) => {
					throw fromNodeError(err, { target: dirname(paths.partial) });
				},
			);
		if (resumable) journal = await CopyJournal.open(storage, hash);
		dst = rootArray(plan)
			? rootArrayContainer(
					spec.registry,
					paths.partial,
					format,
					spec.targetOptions,
					spec.target.capabilities,
				)
			: await spec.registry.openContainer(paths.partial, {
					mode: "w+",
					format,
					adapterOptions: spec.targetOptions,
				});
	} else {
		reporter.info(`resuming ${paths.final}`);
	}
	const collect = garbageCollector();
	let report: TreeCopyReport;
	try {
		report = await copyTree(spec.source.container, dst, {
			plan,
			journal,
			verify: settings.verify,
			durable: settings.durable,
			unsafeCast: settings.unsafeCast,
			maxMemory: settings.maxMemory,
			concurrency: settings.concurrency,
			extraReserveBytes: settings.extraReserveBytes,
			signal: settings.signal,
			...(collect ? { releaseMemory: collect } : {}),
			...(settings.checkpointInterval !== undefined
				? { checkpointInterval: settings.checkpointInterval }
				: {}),
			onProgress: (p) => reporter.progress(p),
			onArray: (a, i) => {
				reporter.event({
					event: "array",
					index: i,
					count: plan.arrays.length,
					source: a.source,
					target: a.target,
				});
			},
		});
	} catch (err) {
		await dst.close().catch(() => {});
		throw err;
	}
	await dst.close();
	await commitOutput(paths, settings.durable);
	return {
		output: paths.final,
		report,
		resumedBlocks: report.arrays.reduce((s, a) => s + a.blocksSkipped, 0),
	};
}

// A single array at "" in a container format (Zarr keeps a root array at the root).
function rootArray(plan: TreePlan): boolean {
	return (
		plan.targetFormat !== "raw" &&
		plan.targetFormat !== "npy" &&
		plan.arrays.length === 1 &&
		plan.arrays[0]?.target === ""
	);
}

// Opens a partial output to continue it; null (after reporting why) when it cannot be opened.
async function reopen(
	job: PreparedJob,
	reporter: Reporter,
): Promise<ContainerStore | undefined> {
	const { spec, paths } = job;
	try {
		if (rootArray(job.plan)) {
			const c = rootArrayContainer(
				spec.registry,
				paths.partial,
				spec.target.name,
				spec.targetOptions,
				spec.target.capabilities,
			);
			await (await c.openArray("", { mode: "r+" })).close();
			return c;
		}
		return await spec.registry.openContainer(paths.partial, {
			mode: "r+",
			format: spec.target.name,
			adapterOptions: spec.targetOptions,
		});
	} catch (err) {
		if (!isArrayStoreError(err) || err.code === "IO_ERROR") throw err;
		reporter.info(
			`cannot continue ${paths.partial} (${err.message}); starting again`,
		);
		return undefined;
	}
}
