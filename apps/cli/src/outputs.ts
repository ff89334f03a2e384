/**
 * Which outputs a source gives: DST itself (with "out.h5#name" naming the array), or inside a
 * directory DST/ — one container per source, or one file per array for single-array formats.
 */
import { basename, extname, join } from "node:path";
import {
	type AdapterRegistry,
	InvalidSelectionError,
	normalizePath,
	type TreePlanOptions,
} from "@arraystore/core";
import { OUTPUT_EXTENSIONS } from "./adapters.js";
import { UsageError } from "./errors.js";
import { type PreparedJob, prepareJob } from "./job.js";
import type { Flags } from "./options.js";
import {
	DIRECT_STREAM_BLOCK_BYTES,
	outputOptions,
	type Source,
	writesDirect,
} from "./source.js";

/** "out/" (or "out\\"): a directory receiving one output per source or per array. */
export function isDirectoryTarget(dst: string): boolean {
	return /[/\\]$/.test(dst);
}

/** Plans the outputs of one source (every refusal happens here, before anything is written). */
export async function prepareJobs(
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
	const pageCache = flags["page-cache"] === true;
	const targetOptionsFor = (t: { readonly name: string }) => ({
		zarrFormat,
		...outputOptions(t.name, pageCache),
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
		...(writesDirect(t.name, pageCache)
			? { streamBlockBytes: DIRECT_STREAM_BLOCK_BYTES }
			: {}),
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
