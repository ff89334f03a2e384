/**
 * HDF5 filters: names and `CodecInfo` for reading, the availability check that must run
 * before any read (HDF5 returns garbage, not an error, when a filter is missing), and the
 * translation of requested codecs into a filter pipeline for writing.
 */
import { type CodecInfo, UnsupportedCodecError } from "@arraystore/core";
import { ADAPTER } from "./errors.js";
import type { PipelineFilter } from "./messages.js";
import type { H5Filter } from "./module.js";

const NAMES: ReadonlyMap<number, string> = new Map([
	[1, "gzip"],
	[2, "shuffle"],
	[3, "fletcher32"],
	[4, "szip"],
	[5, "nbit"],
	[6, "scaleoffset"],
	[307, "bz2"],
	[32000, "lzf"],
	[32001, "blosc"],
	[32004, "lz4"],
	[32008, "bitshuffle"],
	[32013, "zfp"],
	[32015, "zstd"],
	[32019, "jpeg"],
	[32022, "bitgroom"],
	[32023, "bitround"],
	[32026, "blosc2"],
]);

/** Our name of an HDF5 filter id (HDF5's own name, or `filter-<id>`, for unknown ids). */
export function filterName(f: H5Filter): string {
	return NAMES.get(f.id) ?? (f.name !== "" ? f.name : `filter-${f.id}`);
}

/** A dataset's pipeline as `CodecInfo`s, in pipeline order. */
export function codecsOf(filters: readonly H5Filter[]): CodecInfo[] {
	return filters.map((f) => {
		const cd = [...f.cd_values];
		switch (f.id) {
			case 1:
				return { name: "gzip", config: { level: cd[0] ?? 4 } };
			case 2:
				return { name: "shuffle", config: { elementsize: cd[0] ?? 0 } };
			case 3:
				return { name: "fletcher32" };
			case 32015:
				return { name: "zstd", config: { level: cd[0] ?? 3 } };
			default:
				return { name: filterName(f), config: { id: f.id, cd_values: cd } };
		}
	});
}

/** The first filter of `filters` this module cannot run, if any. */
export function missingFilter(
	filters: readonly H5Filter[],
	available: ReadonlyMap<number, string>,
): H5Filter | undefined {
	return filters.find((f) => !available.has(f.id));
}

/** Throws the error for a filter that is not available. */
export function missingFilterError(
	f: H5Filter,
	target: string,
	direction: "decode" | "encode",
): UnsupportedCodecError {
	const name = filterName(f);
	return new UnsupportedCodecError(
		`${target}: HDF5 filter '${name}' (id ${f.id}) is not available in h5wasm${direction === "decode" ? "; refusing to read (HDF5 would return wrong data)" : ""}`,
		{ adapter: ADAPTER, target, codec: name, direction },
	);
}

/** Codecs we can write. */
export const WRITE_CODECS: readonly string[] = [
	"gzip",
	"shuffle",
	"fletcher32",
	"lzf",
	"zstd",
	"blosc",
	"bz2",
	"lz4",
];

const BLOSC_COMPRESSORS: Readonly<Record<string, number>> = {
	blosclz: 0,
	lz4: 1,
	lz4hc: 2,
	snappy: 3,
	zlib: 4,
	zstd: 5,
};

function num(
	config: Readonly<Record<string, unknown>> | undefined,
	key: string,
	dflt: number,
	min: number,
	max: number,
	codec: string,
): number {
	const v = config?.[key] ?? dflt;
	if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
		throw new UnsupportedCodecError(
			`codec '${codec}': ${key} must be an integer in [${min}, ${max}]`,
			{ adapter: ADAPTER, codec, direction: "encode" },
		);
	}
	return v;
}

/** One filter to write, and whether HDF5 must compute its parameters (`set_local`) at creation. */
export interface WriteFilter extends PipelineFilter {
	/** True when only the filter's own `set_local` can fill `cdValues`. */
	readonly computed: boolean;
}

/**
 * Translates requested codecs (pipeline order) into HDF5 filters.
 * @throws {UnsupportedCodecError} unknown codecs, bad options, filters whose plugin is missing.
 */
export function pipelineFor(
	codecs: readonly CodecInfo[],
	itemsize: number,
	available: ReadonlyMap<number, string>,
): WriteFilter[] {
	const out = codecs.map((c): WriteFilter => {
		const name = c.name.toLowerCase();
		const cfg = c.config;
		switch (name) {
			case "gzip":
			case "deflate":
			case "zlib":
				return {
					id: 1,
					name: "deflate",
					flags: 1,
					cdValues: [num(cfg, "level", 4, 0, 9, name)],
					computed: false,
				};
			case "shuffle":
				return {
					id: 2,
					name: "shuffle",
					flags: 1,
					cdValues: [itemsize],
					computed: false,
				};
			case "fletcher32":
				return {
					id: 3,
					name: "fletcher32",
					flags: 0,
					cdValues: [],
					computed: false,
				};
			case "lzf":
				return {
					id: 32000,
					name: "lzf",
					flags: 1,
					cdValues: [],
					computed: true,
				};
			case "zstd":
				return {
					id: 32015,
					name: "zstd",
					flags: 1,
					cdValues: [num(cfg, "level", 3, -131072, 22, name) >>> 0],
					computed: false,
				};
			case "bz2":
			case "bzip2":
				return {
					id: 307,
					name: "bzip2",
					flags: 1,
					cdValues: [num(cfg, "level", 9, 1, 9, name)],
					computed: false,
				};
			case "lz4":
				return {
					id: 32004,
					name: "lz4",
					flags: 1,
					cdValues: [0],
					computed: true,
				};
			case "blosc": {
				const cname = cfg?.cname ?? "lz4";
				const code =
					typeof cname === "string" ? BLOSC_COMPRESSORS[cname] : undefined;
				if (code === undefined)
					throw new UnsupportedCodecError(
						`codec 'blosc': unknown cname ${JSON.stringify(cname)}`,
						{ adapter: ADAPTER, codec: name, direction: "encode" },
					);
				const shuffle = num(cfg, "shuffle", 1, 0, 2, name);
				return {
					id: 32001,
					name: "blosc",
					flags: 1,
					cdValues: [
						0,
						0,
						0,
						0,
						num(cfg, "clevel", 5, 0, 9, name),
						shuffle,
						code,
					],
					computed: true,
				};
			}
			default:
				throw new UnsupportedCodecError(
					`HDF5 output cannot write codec '${c.name}' (writable: ${WRITE_CODECS.join(", ")})`,
					{ adapter: ADAPTER, codec: c.name, direction: "encode" },
				);
		}
	});
	for (const f of out) {
		if (!available.has(f.id))
			throw missingFilterError(
				{ id: f.id, name: f.name, cd_values: [] },
				"HDF5 output",
				"encode",
			);
	}
	if (out.filter((f) => f.computed).length > 1) {
		throw new UnsupportedCodecError(
			`HDF5 output: at most one of ${out
				.filter((f) => f.computed)
				.map((f) => f.name)
				.join(
					", ",
				)} per dataset (h5wasm sets up one plugin filter per dataset)`,
			{
				adapter: ADAPTER,
				codec: out.map((f) => f.name).join("+"),
				direction: "encode",
			},
		);
	}
	return out;
}
