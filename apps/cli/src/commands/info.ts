/**
 * `convert info PATH`: every group and array of a file or store with dtype, shape, order,
 * chunks, codecs, fill value and attributes (like `h5ls -v` or zarr's `info`); `--json` gives
 * one JSON object.
 */
import { NotFoundError } from "@arraystore/core";
import { builtinRegistry, FORMAT_ALIASES } from "../adapters.js";
import { UsageError } from "../errors.js";
import {
	checkDTypeText,
	type Flags,
	onlyFlags,
	parseCount,
	parseOrder,
	parseShapeList,
} from "../options.js";
import { jsonLine } from "../progress.js";
import { openSource, type Source } from "../source.js";
import { infoText, readTree } from "../tree-view.js";
import type { CommandContext } from "./convert.js";

/** Flags `info` and `ls` accept. */
export const VIEW_FLAGS: readonly (keyof Flags)[] = [
	"from",
	"dtype",
	"shape",
	"offset",
	"order",
	"json",
	"quiet",
	"debug",
	"follow-external-links",
];

/** Opens PATH for viewing (raw layout flags apply to raw files). */
export async function openForView(path: string, flags: Flags): Promise<Source> {
	let format: string | undefined;
	if (flags.from !== undefined) {
		const f = FORMAT_ALIASES[flags.from.trim().toLowerCase()];
		if (!f)
			throw new UsageError(
				`--from must be one of ${Object.keys(FORMAT_ALIASES).join(", ")}`,
			);
		format = f.format;
	}
	const registry = builtinRegistry();
	const resolved = await registry.resolve(path, format);
	const raw = resolved.adapter.name === "raw";
	if (
		!raw &&
		(flags.dtype ?? flags.shape ?? flags.offset ?? flags.order) !== undefined
	)
		throw new UsageError(
			"--dtype, --shape, --offset and --order describe raw files only",
		);
	return openSource(registry, path, {
		format: resolved.adapter.name,
		followExternalLinks: flags["follow-external-links"] === true,
		layout: raw
			? {
					...(flags.dtype !== undefined
						? { dtype: checkDTypeText(flags.dtype) }
						: {}),
					...(flags.shape !== undefined
						? { shape: parseShapeList(flags.shape, "--shape") }
						: {}),
					...(flags.offset !== undefined
						? { offset: parseCount(flags.offset, "--offset") }
						: {}),
					...(flags.order !== undefined
						? { order: parseOrder(flags.order) }
						: {}),
				}
			: {},
	});
}

/** Runs `convert info PATH`. Returns the exit code. */
export async function infoCommand(
	positionals: readonly string[],
	flags: Flags,
	ctx: CommandContext,
): Promise<number> {
	onlyFlags(flags, VIEW_FLAGS, "convert info");
	if (positionals.length !== 1)
		throw new UsageError("usage: convert info PATH");
	const source = await openForView(positionals[0] ?? "", flags);
	try {
		let nodes = await readTree(source.container, {
			attributes: true,
			followExternalLinks: flags["follow-external-links"] === true,
		});
		if (source.inner !== null) {
			const want = `/${source.inner.replace(/^\/+/, "")}`;
			nodes = nodes.filter(
				(n) => n.path === want || n.path.startsWith(`${want}/`),
			);
			if (nodes.length === 0)
				throw new NotFoundError(`${source.inner} not found in ${source.file}`, {
					target: source.file,
				});
		}
		if (flags.json)
			ctx.stdout.write(
				`${jsonLine({ path: source.file, format: source.adapter.name, nodes })}\n`,
			);
		else
			ctx.stdout.write(
				infoText(`${source.file} (${source.adapter.name})`, nodes),
			);
		return 0;
	} finally {
		await source.container.close().catch(() => {});
	}
}
