/**
 * The npz adapter: `.npz` archives (np.savez / np.savez_compressed) as flat containers whose
 * keys are the member names without `.npy`. Single arrays open as `file.npz#key`.
 */
import { access } from "node:fs/promises";
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
		const mode = options.mode === "r+" ? "r+" : "r";
		const archive = await openNpz(target, mode, options.adapterOptions);
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
			return closingArchive(
				await archive.openArray(path, { ...options, path }),
				archive,
			);
		} catch (err) {
			await archive.close().catch(() => undefined);
			throw err;
		}
	},

	async create(
		target: string,
		options: DriverCreateOptions,
	): Promise<ArrayDriver> {
		if (options.path === "" || options.path === "/")
			throw new UnsupportedError(
				`name the array inside ${target}: ${target}#<key>`,
				{ target, adapter: NPZ_ADAPTER },
			);
		const exists = await access(target).then(
			() => true,
			() => false,
		);
		if (exists && options.exclusive) {
			const probe = await openNpz(target, "r", options.adapterOptions);
			const taken = probe.keys().includes(options.path.replace(/^\/+/, ""));
			await probe.close();
			if (taken)
				throw new AlreadyExistsError(
					`${target} already holds ${options.path}`,
					{ target, adapter: NPZ_ADAPTER },
				);
		}
		// w+ on a member: create the archive if missing, leave other members alone.
		const archive = await openNpz(
			target,
			exists ? "r+" : "w+",
			options.adapterOptions,
		);
		try {
			return closingArchive(
				await archive.createArray(options.path, options),
				archive,
			);
		} catch (err) {
			await archive.close().catch(() => undefined);
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

/** A member driver that also closes its archive (single-array opens). */
function closingArchive(inner: ArrayDriver, archive: NpzArchive): ArrayDriver {
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
			closing ??= inner.close().finally(() => archive.close());
			return closing;
		},
	};
}
