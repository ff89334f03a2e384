/**
 * Command-line options: the `node:util.parseArgs` table and the parsers of option values
 * (shapes, codecs, sizes). Every malformed value is a `UsageError` (exit code 2).
 */
import { parseArgs } from "node:util";
import { type CodecInfo, parseBytes, parseDType } from "@arraystore/core";
import { UsageError } from "./errors.js";

/** The option table shared by every command (each command rejects what does not apply). */
export const OPTIONS = {
	from: { type: "string" },
	to: { type: "string" },
	dataset: { type: "string", multiple: true },
	name: { type: "string", multiple: true },
	dtype: { type: "string" },
	shape: { type: "string" },
	offset: { type: "string" },
	order: { type: "string" },
	chunks: { type: "string" },
	codec: { type: "string" },
	"zarr-version": { type: "string" },
	shards: { type: "string" },
	"unsafe-cast": { type: "boolean" },
	"max-memory": { type: "string" },
	jobs: { type: "string", short: "j" },
	overwrite: { type: "boolean" },
	resume: { type: "boolean" },
	verify: { type: "boolean" },
	fsync: { type: "boolean" },
	"page-cache": { type: "boolean" },
	"dry-run": { type: "boolean", short: "n" },
	json: { type: "boolean" },
	quiet: { type: "boolean", short: "q" },
	debug: { type: "boolean" },
	"follow-external-links": { type: "boolean" },
	version: { type: "boolean", short: "V" },
	help: { type: "boolean", short: "h" },
} as const;

/** Parsed flags, by long name. */
export type Flags = {
	-readonly [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends {
		readonly multiple: true;
	}
		? string[]
		: (typeof OPTIONS)[K]["type"] extends "boolean"
			? boolean
			: string;
};

/** Parses argv into flags and positionals. */
export function parseCommandLine(argv: readonly string[]): {
	flags: Flags;
	positionals: string[];
} {
	try {
		const { values, positionals } = parseArgs({
			args: [...argv],
			options: OPTIONS,
			strict: true,
			allowPositionals: true,
		});
		return { flags: values as Flags, positionals };
	} catch (err) {
		// parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes; their messages are clear.
		const message = err instanceof Error ? err.message : String(err);
		throw new UsageError(message.replace(/\. To specify a positional.*$/s, ""));
	}
}

/** Refuses flags that do not apply to a command. */
export function onlyFlags(
	flags: Flags,
	allowed: readonly (keyof Flags)[],
	command: string,
): void {
	for (const key of Object.keys(flags) as (keyof Flags)[]) {
		if (flags[key] !== undefined && !allowed.includes(key))
			throw new UsageError(`--${key} does not apply to ${command}`);
	}
}

/** "100,200", "100x200", "[100, 200]", "(100,)", "[]" → numbers (≥ `min`). */
export function parseShapeList(text: string, what: string, min = 0): number[] {
	const inner = text.trim().replace(/^[[(]\s*|\s*[\])]$/g, "");
	if (inner === "") return [];
	const parts = inner
		.split(/\s*[,x×]\s*/)
		.filter((p, i, a) => p !== "" || i < a.length - 1);
	const out = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN));
	if (out.some((n) => !Number.isSafeInteger(n) || n < min))
		throw new UsageError(
			`${what} must be a list of integers ≥ ${min} such as 100,200, got ${JSON.stringify(text)}`,
		);
	return out;
}

/** A non-negative integer (`--offset`), also with a size unit ("4KiB"). */
export function parseCount(text: string, what: string): number {
	const n = parseBytes(text);
	if (n === null || !Number.isSafeInteger(n) || n < 0)
		throw new UsageError(
			`${what} must be a non-negative integer, got ${JSON.stringify(text)}`,
		);
	return n;
}

/** `--max-memory`: "256MiB", "1g", "300000000". */
export function parseMemory(text: string): number {
	const n = parseBytes(text);
	if (n === null || n <= 0)
		throw new UsageError(
			`--max-memory must be a size such as 256MiB or 2GiB, got ${JSON.stringify(text)}`,
		);
	return n;
}

/** `--jobs N`: a positive integer. */
export function parseJobs(text: string): number {
	if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > 64)
		throw new UsageError(
			`--jobs must be an integer from 1 to 64, got ${JSON.stringify(text)}`,
		);
	return Number(text);
}

/** `--order C|F`. */
export function parseOrder(text: string): "C" | "F" {
	const o = text.trim().toUpperCase();
	if (o !== "C" && o !== "F")
		throw new UsageError(`--order must be C or F, got ${JSON.stringify(text)}`);
	return o;
}

/** `--zarr-version 2|3`. */
export function parseZarrVersion(text: string): 2 | 3 {
	if (text.trim() === "2") return 2;
	if (text.trim() === "3") return 3;
	throw new UsageError(
		`--zarr-version must be 2 or 3, got ${JSON.stringify(text)}`,
	);
}

/** `--dtype`: any numpy dtype spelling, checked now. */
export function checkDTypeText(text: string): string {
	try {
		parseDType(text.trim());
		return text.trim();
	} catch {
		throw new UsageError(
			`--dtype must be a numpy dtype such as <f4, float32 or int16, got ${JSON.stringify(text)}`,
		);
	}
}

const SHUFFLE: Readonly<Record<string, number>> = {
	noshuffle: 0,
	shuffle: 1,
	bitshuffle: 2,
};

/**
 * `--codec`: a comma-separated pipeline of `name[:level]` items — `zstd:3`, `gzip:6`, `zlib:1`,
 * `lz4`, `blosc:lz4:5:shuffle` (`blosc:cname:clevel:noshuffle|shuffle|bitshuffle`), `shuffle`,
 * `crc32c` — or `none` (no compression).
 */
export function parseCodecs(text: string): CodecInfo[] {
	const spec = text.trim().toLowerCase();
	if (spec === "none" || spec === "") return [];
	return spec.split(",").map((item) => {
		const [name = "", ...args] = item.trim().split(":");
		const level = (i: number, key: string): Record<string, number> => {
			const a = args[i];
			if (a === undefined || a === "") return {};
			if (!/^-?\d+$/.test(a))
				throw new UsageError(
					`--codec ${item}: ${key} must be an integer, got ${JSON.stringify(a)}`,
				);
			return { [key]: Number(a) };
		};
		switch (name) {
			case "zstd":
			case "gzip":
			case "zlib":
			case "bz2":
				if (args.length > 1) break;
				return { name, config: level(0, "level") };
			case "lz4":
			case "lzf":
			case "crc32c":
			case "fletcher32":
			case "shuffle":
				if (args.length > 0) break;
				return { name };
			case "blosc": {
				if (args.length > 3) break;
				const [cname, , shuffle] = args;
				const config: Record<string, string | number> = {
					...(cname ? { cname } : {}),
					...level(1, "clevel"),
				};
				if (shuffle !== undefined && shuffle !== "") {
					const s = SHUFFLE[shuffle];
					if (s === undefined)
						throw new UsageError(
							`--codec ${item}: shuffle must be noshuffle, shuffle or bitshuffle`,
						);
					config.shuffle = s;
				}
				return { name, config };
			}
			default:
				throw new UsageError(
					`--codec: unknown codec ${JSON.stringify(name)} (use zstd:3, gzip:6, zlib:1, lz4, blosc:lz4:5:shuffle, shuffle, crc32c or none)`,
				);
		}
		throw new UsageError(
			`--codec: too many parameters in ${JSON.stringify(item)}`,
		);
	});
}
