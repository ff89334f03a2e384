/**
 * The npz adapter: `.npz` archives (np.savez / np.savez_compressed) as flat containers whose
 * keys are the member names without `.npy`. Single arrays open as `file.npz#key`.
 */
import { access } from "node:fs/promises";
import { resolve } from "node:path";
import {
	AlreadyExistsError,
	type ArrayAdapter,
	type ArrayDriver,
	type Capabilities,
	type ContainerDriver,
	type ContainerOptions,
	type DriverCreateOptions,
	type DriverOpenOptions,
	type DType,
	type DTypeSupport,
	type Mode,
	NotFoundError,
	type Probe,
	type Region,
	UnsupportedError,
} from "@arraystore/core";
import { checkNpyDType } from "../options.js";
import { NPZ_ADAPTER } from "./member-drivers.js";
import { type NpzArchive, openNpz } from "./npz-archive.js";

const CAPABILITIES: Capabilities = Object.freeze({
	modes: Object.freeze(["r", "r+", "w+", "c"] as const),
	orders: Object.freeze(["C", "F"] as const),
	byteOrders: Object.freeze(["<", ">"] as const),
	chunked: false,
	codecs: Object.freeze(["deflate"]),
	attributes: "none",
	hierarchy: "flat",
	needsLayout: false,
	resize: false,
	zeroCopy: false,
});

/** True for a zip local header (or the end record of an empty archive). */
export function hasZipMagic(head: Uint8Array): boolean {
	return (
		head.length >= 4 &&
		head[0] === 0x50 &&
		head[1] === 0x4b &&
		((head[2] === 0x03 && head[3] === 0x04) ||
			(head[2] === 0x05 && head[3] === 0x06))
	);
}

/**
 * The `.npz` adapter. Mode c goes through core's overlay (members may be deflated). New
 * members are stored unless `adapterOptions.compression` is `"deflated"`.
 * @example
 * ```ts
 * const registry = createRegistry([npyAdapter, npzAdapter]);
 * await using npz = await registry.openContainer("arrays.npz");
 * const x = await npz.openArray("x");
 * ```
 */
export const npzAdapter: ArrayAdapter = {
	name: NPZ_ADAPTER,
	extensions: Object.freeze([".npz"]),
	createExtensions: Object.freeze([".npz"]),
	capabilities: CAPABILITIES,
	nativeCopyOnWrite: false,

	sniff(probe: Probe): boolean {
		// A zip magic alone is far too common (docx, jar, …): only with the .npz extension.
		return (
			!probe.isDirectory &&
			probe.extension === ".npz" &&
			hasZipMagic(probe.head)
		);
	},

	checkDType(dtype: DType): DTypeSupport {
		return checkNpyDType(dtype);
	},

	async open(target: string, options: DriverOpenOptions): Promise<ArrayDriver> {
		const { archive, release } = await acquire(
			target,
			options.mode === "r+" ? "r+" : "r",
			options.adapterOptions,
		);
		try {
			let path = options.path;
			if (path === "" || path === "/") {
				const keys = archive.keys();
				if (keys.length !== 1) {
					throw new NotFoundError(
						`${target} holds ${keys.length} arrays (${keys.slice(0, 10).join(", ")}); name one as ${target}#<key>`,
						{
							target,
							adapter: NPZ_ADAPTER,
						},
					);
				}
				path = keys[0] as string;
			}
			return releasing(
				await archive.openArray(path, { ...options, path }),
				archive,
				release,
			);
		} catch (err) {
			await release().catch(() => undefined);
			throw err;
		}
	},

	async create(
		target: string,
		options: DriverCreateOptions,
	): Promise<ArrayDriver> {
		if (options.path === "" || options.path === "/") {
			throw new UnsupportedError(
				`name the array inside ${target}: ${target}#<key>`,
				{ target, adapter: NPZ_ADAPTER },
			);
		}
		// w+ on a member: create the archive if missing, leave other members alone.
		const { archive, release } = await acquire(
			target,
			"r+",
			options.adapterOptions,
		);
		try {
			if (
				options.exclusive &&
				archive.keys().includes(options.path.replace(/^\/+/, ""))
			) {
				throw new AlreadyExistsError(
					`${target} already holds ${options.path}`,
					{ target, adapter: NPZ_ADAPTER },
				);
			}
			return releasing(
				await archive.createArray(options.path, options),
				archive,
				release,
			);
		} catch (err) {
			await release().catch(() => undefined);
			throw err;
		}
	},

	async openContainer(
		target: string,
		options: ContainerOptions & { readonly mode: Mode },
	): Promise<ContainerDriver> {
		const mode = options.mode === "c" ? "r" : options.mode;
		return openNpz(target, mode, options.adapterOptions ?? {});
	},
};

// --- internal ---

interface SharedArchive {
	readonly ready: Promise<NpzArchive>;
	refs: number;
	closing: Promise<void> | null;
}

// Single-array opens and creates of one archive share one writable instance per process, so
// arrays created one after another (or while others are open) land in the same directory
// instead of overwriting each other's.
const shared = new Map<string, SharedArchive>();

/**
 * The archive at `target` for a single-array open or create: the shared writable instance if
 * one is open, else a new one ("r" stays private; "r+" opens or creates the archive and shares it).
 */
async function acquire(
	target: string,
	mode: "r" | "r+",
	adapterOptions: Readonly<Record<string, unknown>>,
): Promise<{ archive: NpzArchive; release: () => Promise<void> }> {
	const key = resolve(target);
	for (let s = shared.get(key); s?.closing; s = shared.get(key))
		await s.closing.catch(() => undefined);
	let entry = shared.get(key);
	if (entry === undefined) {
		if (mode === "r") {
			const archive = await openNpz(target, "r", adapterOptions);
			return { archive, release: () => archive.close() };
		}
		const ready = access(target).then(
			() => openNpz(target, "r+", adapterOptions),
			() => openNpz(target, "w+", adapterOptions),
		);
		entry = { ready, refs: 0, closing: null };
		shared.set(key, entry);
		ready.catch(() => shared.delete(key));
	}
	const s = entry;
	s.refs++;
	let archive: NpzArchive;
	try {
		archive = await s.ready;
	} catch (err) {
		s.refs--;
		throw err;
	}
	let released = false;
	return {
		archive,
		release: () => {
			if (released) return s.closing ?? Promise.resolve();
			released = true;
			if (--s.refs > 0) return Promise.resolve();
			s.closing = archive.close().finally(() => shared.delete(key));
			return s.closing;
		},
	};
}

/** A member driver that also releases its archive (single-array opens). */
function releasing(
	inner: ArrayDriver,
	archive: NpzArchive,
	release: () => Promise<void>,
): ArrayDriver {
	let closing: Promise<void> | null = null;
	const write = inner.write;
	return {
		get info() {
			return inner.info;
		},
		read: (r: Region, out: Uint8Array, signal?: AbortSignal) =>
			inner.read(r, out, signal),
		...(write
			? {
					write: (r: Region, bytes: Uint8Array, signal?: AbortSignal) =>
						write.call(inner, r, bytes, signal),
				}
			: {}),
		flush: async (o) => {
			await inner.flush?.(o);
			await archive.flush();
		},
		close(): Promise<void> {
			closing ??= inner.close().finally(release);
			return closing;
		},
	};
}
