/**
 * The two adapters: `mmappickleAdapter` (read/write mmappickle dicts) and `pickleAdapter`
 * (read-only plain pickles and joblib dumps, never executed).
 */
import { stat } from "node:fs/promises";
import {
	type ArrayAdapter,
	type ArrayDriver,
	type Capabilities,
	type ContainerDriver,
	type DType,
	type DTypeSupport,
	type Probe,
	UnsupportedError,
} from "@arraystore/core";
import { detectCodec } from "./joblib/compressed.js";
import { MmpContainer } from "./mmappickle/container.js";
import { MmpFile } from "./mmappickle/file.js";
import { parseHeader } from "./mmappickle/format.js";
import { regionIo } from "./open-ref.js";
import { ownedDriver } from "./owned-driver.js";
import { PickleFile, type PickleFileOptions } from "./pickle-file.js";
import type { VmLimits } from "./pickle-vm/vm.js";

const MMP_CAPS: Capabilities = Object.freeze({
	modes: Object.freeze(["r", "r+", "w+", "c"] as const),
	orders: Object.freeze(["C"] as const),
	byteOrders: Object.freeze(["<", ">"] as const),
	chunked: false,
	codecs: Object.freeze([]),
	attributes: "readwrite",
	hierarchy: "flat",
	needsLayout: false,
	resize: false,
	zeroCopy: false,
});

const PICKLE_CAPS: Capabilities = Object.freeze({
	modes: Object.freeze(["r", "c"] as const),
	orders: Object.freeze(["C", "F"] as const),
	byteOrders: Object.freeze(["<", ">"] as const),
	chunked: false,
	codecs: Object.freeze([]),
	attributes: "read",
	hierarchy: "tree",
	needsLayout: false,
	resize: false,
	zeroCopy: false,
});

const PICKLE_EXTENSIONS = [
	".pkl",
	".pickle",
	".joblib",
	".z",
	".gz",
	".bz2",
	".xz",
	".lzma",
	".lz4",
];

/** `adapterOptions` both adapters understand. */
export interface MmappickleAdapterOptions {
	/** New array entries: data offset alignment (default 64); false writes mmappickle's exact bytes. */
	readonly align?: number | false;
	readonly vmLimits?: Partial<VmLimits>;
	/** Compressed joblib bomb guard (default 64 GiB). */
	readonly maxDecompressedBytes?: number;
	/** Most memory liblzma may take for an xz or lzma joblib file (default 256 MiB). */
	readonly maxDecoderMemory?: number;
	/** false: read and write array data with positional I/O instead of memory maps. */
	readonly mmap?: boolean;
	/** With `mmap: false`: writes of 2 MiB and more bypass the page cache (O_DIRECT) where allowed. */
	readonly directWrites?: boolean;
}

function mmpOptions(o: Readonly<Record<string, unknown>> | undefined): {
	align?: number | false;
	vmLimits?: Partial<VmLimits>;
} {
	const align = o?.align;
	const vmLimits = o?.vmLimits as Partial<VmLimits> | undefined;
	return {
		...(align === false ||
		(typeof align === "number" && Number.isSafeInteger(align) && align > 0)
			? { align }
			: {}),
		...(vmLimits ? { vmLimits } : {}),
	};
}

function pickleOptions(
	o: Readonly<Record<string, unknown>> | undefined,
): PickleFileOptions {
	const vmLimits = o?.vmLimits as Partial<VmLimits> | undefined;
	const max = o?.maxDecompressedBytes;
	const mem = o?.maxDecoderMemory;
	return {
		...(vmLimits ? { vmLimits } : {}),
		...(typeof max === "number" ? { maxDecompressedBytes: max } : {}),
		...(typeof mem === "number" ? { maxDecoderMemory: mem } : {}),
		...(o?.mmap === false ? { mmap: false } : {}),
	};
}

/** Which dtypes mmappickle can write (architecture.md §3.5). */
function mmpCheckDType(dtype: DType): DTypeSupport {
	if (dtype.kind === "O")
		return {
			ok: false,
			reason: "mmappickle cannot store object or variable-length arrays",
		};
	if (dtype.fields !== undefined || dtype.subarray !== undefined) {
		return {
			ok: false,
			reason:
				"mmappickle writes a structured dtype as its Python repr, which neither mmappickle nor numpy can read back",
		};
	}
	if (dtype.itemsize === 0) return { ok: false, reason: "zero-size elements" };
	return { ok: true };
}

/** mmappickle (`.mmdpickle`): a dict of memory-mappable arrays in one valid pickle file. */
export const mmappickleAdapter: ArrayAdapter = {
	name: "mmappickle",
	extensions: [".mmdpickle"],
	createExtensions: [".mmdpickle"],
	capabilities: MMP_CAPS,
	sniff(probe: Probe): boolean {
		// The header structure with any version, so a wrong version fails as such (§4.8 step 3).
		return !probe.isDirectory && parseHeader(probe.head) !== null;
	},
	checkDType: mmpCheckDType,
	async open(target, options): Promise<ArrayDriver> {
		const file = await MmpFile.open(target, {
			mode: options.mode === "r+" ? "r+" : "r",
			...mmpOptions(options.adapterOptions),
		});
		const container = new MmpContainer(file, regionIo(options.adapterOptions));
		try {
			return ownedDriver(await container.openArray(options.path, options), () =>
				container.close(),
			);
		} catch (err) {
			await container.close();
			throw err;
		}
	},
	async create(target, options): Promise<ArrayDriver> {
		const exists = await stat(target).then(
			(s) => s.isFile(),
			() => false,
		);
		const file = await MmpFile.open(target, {
			mode: exists ? "r+" : "w+",
			...mmpOptions(options.adapterOptions),
		});
		const container = new MmpContainer(file, regionIo(options.adapterOptions));
		try {
			return ownedDriver(
				await container.createArray(options.path, options),
				() => container.close(),
			);
		} catch (err) {
			await container.close();
			throw err;
		}
	},
	async openContainer(target, options): Promise<ContainerDriver> {
		const mode =
			options.mode === "w+" ? "w+" : options.mode === "r+" ? "r+" : "r";
		return new MmpContainer(
			await MmpFile.open(target, {
				mode,
				...mmpOptions(options.adapterOptions),
			}),
			regionIo(options.adapterOptions),
		);
	},
};

/** Plain pickles and joblib dumps (read-only; decoded by the restricted VM, never executed). */
export const pickleAdapter: ArrayAdapter = {
	name: "pickle",
	extensions: PICKLE_EXTENSIONS,
	createExtensions: [],
	capabilities: PICKLE_CAPS,
	sniff(probe: Probe): boolean {
		if (probe.isDirectory || probe.head.length < 2) return false;
		const h = probe.head;
		if (parseHeader(h) !== null) return false;
		if (h[0] === 0x80) return (h[1] as number) >= 2 && (h[1] as number) <= 5;
		const ext = probe.extension;
		if (!PICKLE_EXTENSIONS.includes(ext)) return false;
		try {
			if (detectCodec(h) !== null) return true;
		} catch {
			return true; // joblib ZF: open reports UnsupportedError
		}
		// Protocols 0/1 have no header: only with a pickle extension.
		return (
			(ext === ".pkl" || ext === ".pickle") &&
			[
				0x28, 0x5d, 0x7d, 0x63, 0x4e, 0x49, 0x46, 0x53, 0x56, 0x6c, 0x64, 0x29,
			].includes(h[0] as number)
		);
	},
	checkDType(dtype: DType): DTypeSupport {
		return dtype.kind === "O"
			? { ok: false, reason: "variable-length strings" }
			: { ok: false, reason: "pickle and joblib are read-only here" };
	},
	async open(target, options): Promise<ArrayDriver> {
		if (options.mode === "r+")
			throw new UnsupportedError("pickle and joblib files are read-only");
		const file = await PickleFile.open(
			target,
			pickleOptions(options.adapterOptions),
		);
		try {
			return ownedDriver(
				await file.openArray(options.path, options.mode, options.signal),
				() => file.close(),
			);
		} catch (err) {
			await file.close();
			throw err;
		}
	},
	async openContainer(target, options): Promise<ContainerDriver> {
		if (options.mode === "r+" || options.mode === "w+")
			throw new UnsupportedError("pickle and joblib files are read-only");
		const file = await PickleFile.open(
			target,
			pickleOptions(options.adapterOptions),
		);
		return {
			list: async (path, recursive) => file.list(path, recursive),
			attrs: (path) => file.attrs(path),
			openArray: (path, o) => file.openArray(path, o.mode, o.signal),
			close: () => file.close(),
		};
	},
};
