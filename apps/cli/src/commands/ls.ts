/**
 * `convert ls PATH`: the tree of groups, arrays and links, one line each (like h5ls -r), or
 * one JSON object with `--json`.
 */
import { UsageError } from "../errors.js";
import { type Flags, onlyFlags } from "../options.js";
import { jsonLine } from "../progress.js";
import { lsText, readTree } from "../tree-view.js";
import type { CommandContext } from "./convert.js";
import { openForView, VIEW_FLAGS } from "./info.js";

/** Runs `convert ls PATH`. Returns the exit code. */
export async function lsCommand(
	positionals: readonly string[],
	flags: Flags,
	ctx: CommandContext,
): Promise<number> {
	onlyFlags(flags, VIEW_FLAGS, "convert ls");
	if (positionals.length !== 1) throw new UsageError("usage: convert ls PATH");
	const source = await openForView(positionals[0] ?? "", flags);
	try {
		const nodes = await readTree(source.container, {
			attributes: false,
			followExternalLinks: flags["follow-external-links"] === true,
		});
		if (flags.json)
			ctx.stdout.write(
				`${jsonLine({ path: source.file, format: source.adapter.name, nodes })}\n`,
			);
		else ctx.stdout.write(lsText(nodes));
		return 0;
	} finally {
		await source.container.close().catch(() => {});
	}
}
