/**
 * The command line: `convert SRC DST [options]`, `convert info PATH`, `convert ls PATH`.
 * Parses with `node:util.parseArgs`, dispatches, and turns every failure into one line on
 * stderr and an exit code (0 ok, 1 bad input, 2 usage, 3 I/O failure or interrupted).
 */
import { readFileSync } from "node:fs";
import { type CommandContext, convertCommand } from "./commands/convert.js";
import { infoCommand } from "./commands/info.js";
import { lsCommand } from "./commands/ls.js";
import {
	errorCodeOf,
	errorDetails,
	errorLine,
	exitCodeFor,
	UsageError,
} from "./errors.js";
import { type Flags, parseCommandLine } from "./options.js";
import { jsonLine } from "./progress.js";

/** This package's version. */
export const VERSION: string = (
	JSON.parse(
		readFileSync(new URL("../package.json", import.meta.url), "utf8"),
	) as {
		version: string;
	}
).version;

/** `convert --help`. */
export const HELP: string = `convert — stream arrays between raw .dat, .npy, mmappickle/pickle/joblib, HDF5 and Zarr (arraystore ${VERSION})

usage:
  convert SRC DST [options]      copy every array, group and attribute of SRC into DST
  convert SRC DIR/ --to FORMAT   one output per array (single-array formats) or per source
  convert info PATH [--json]     groups and arrays with dtype, shape, chunks, codecs, attributes
  convert ls PATH [--json]       the tree, one line per group, array or link

Formats come from magic bytes, marker files and extensions (.dat .bin .raw, .npy, .mmdpickle,
.npz, .pkl .pickle .joblib, .h5 .hdf5 .he5 .nc, .zarr) or from --from/--to. "file.h5#/grp/x" names an
array inside a container.

selection:
  --dataset PATH          copy only this array of a container (repeatable)
  --name PATH             place the matching --dataset at this path in the target (repeatable)
  --follow-external-links read HDF5 external links (they open other files; off by default)
raw input (or its <file>.json sidecar):
  --dtype DTYPE --shape N,M --offset BYTES --order C|F
output:
  --from FORMAT / --to FORMAT   raw npy npz mmappickle pickle hdf5 zarr zarr2 zarr3
  --chunks N,M            chunk shape (inner chunks with --shards)
  --codec SPEC            zstd:3, gzip:6, zlib:1, lz4, blosc:lz4:5:shuffle, shuffle, crc32c, none
                          (comma-separated for a pipeline)
  --zarr-version 2|3      Zarr output version (default 3)
  --shards N,M            Zarr v3 shard shape
  --dtype DTYPE           cast the output (safe casts only) · --unsafe-cast allows lossy ones
  --order C|F             storage order of the output
run:
  --max-memory SIZE       memory budget, e.g. 256MiB (default), 1GiB; impossible plans are refused
  --jobs N                blocks written concurrently (default 2)
  --overwrite             replace an existing DST (otherwise refused)
  --resume                continue an interrupted run (a matching DST.partial is continued anyway)
  --verify                read the output back and compare a SHA-256 per block
  --fsync                 wait for the disk at every checkpoint and before DST appears (survives
                          a machine crash; off: like cp, writeback is left to the kernel)
  --page-cache            write raw, npy and mmappickle outputs through the page cache (default:
                          writes of 2 MiB and more bypass it with O_DIRECT where the file system allows)
  --dry-run, -n           print the plan (arrays, dtypes, chunks, codecs, size, peak memory)
  --json                  one JSON object per line (plan, progress, result or error)
  --quiet, -q             no progress and no summary
  --debug                 stack traces on errors
  --version, -V · --help, -h

Output goes to DST.partial and is renamed to DST at the end; an interrupted run (Ctrl-C) keeps
DST.partial and its journal, and the same command continues it.
exit codes: 0 ok · 1 bad input (error code shown) · 2 usage · 3 I/O failure or interrupted
`;

/** Runs the CLI; returns the exit code. */
export async function runCli(
	argv: readonly string[],
	ctx: CommandContext,
): Promise<number> {
	let flags: Flags = {};
	try {
		const parsed = parseCommandLine(argv);
		flags = parsed.flags;
		if (flags.help) {
			ctx.stdout.write(HELP);
			return 0;
		}
		if (flags.version) {
			ctx.stdout.write(`arraystore convert ${VERSION}\n`);
			return 0;
		}
		const [first, ...rest] = parsed.positionals;
		if (first === undefined)
			throw new UsageError(
				"convert needs a source and a destination: convert SRC DST",
			);
		if (first === "info") return await infoCommand(rest, flags, ctx);
		if (first === "ls") return await lsCommand(rest, flags, ctx);
		return await convertCommand(parsed.positionals, flags, ctx);
	} catch (err) {
		const code = exitCodeFor(err);
		if (flags.json)
			ctx.stdout.write(
				`${jsonLine({ event: "error", code: errorCodeOf(err), message: errorLine(err), exitCode: code })}\n`,
			);
		ctx.stderr.write(`convert: ${errorLine(err)}\n`);
		if (flags.debug) ctx.stderr.write(`${errorDetails(err)}\n`);
		return code;
	}
}
