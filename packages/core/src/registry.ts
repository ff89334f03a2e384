/**
 * The adapter registry: resolves a target to an adapter — explicit format, then magic bytes /
 * marker files, then extension — and opens or creates stores through it. Ambiguity is an
 * error, never a guess. Adapters do not self-register.
 */

import { createContainerStore } from "./container.js";
import { checkCreate } from "./create-check.js";
import type { ArrayAdapter, Probe } from "./driver.js";
import { parseDType } from "./dtype/parse.js";
import {
	AmbiguousFormatError,
	NoAdapterError,
	NotFoundError,
	UnsupportedError,
	wrapError,
} from "./errors.js";
import { singleArrayContainer } from "./single-container.js";
import { createArrayStore } from "./store.js";
import type {
	ArrayStore,
	ContainerOptions,
	ContainerStore,
	CreateOptions,
	Mode,
	OpenExistingOptions,
	ReadableArrayStore,
} from "./types.js";

/** What a probe reader found for a target ("file.h5#/grp/x" splits into file and inner path). */
export interface ProbeResult {
	readonly file: string;
	readonly inner: string | null;
	/** null when nothing exists at `file`. */
	readonly probe: Probe | null;
}

/** Reads probes from storage (the Node one lives in `@arraystore/core/node`). */
export type ProbeReader = (target: string) => Promise<ProbeResult>;

/** Lower-case extension with the dot. */
export function extensionOf(path: string): string {
	const base =
		path
			.replace(/[/\\]+$/, "")
			.split(/[/\\]/)
			.pop() ?? "";
	const i = base.lastIndexOf(".");
	return i > 0 ? base.slice(i).toLowerCase() : "";
}

/** Adapters by name, with detection. */
export class AdapterRegistry {
	readonly #adapters = new Map<string, ArrayAdapter>();
	readonly #probe: ProbeReader | undefined;

	constructor(
		options: {
			readonly adapters?: readonly ArrayAdapter[];
			readonly probe?: ProbeReader;
		} = {},
	) {
		this.#probe = options.probe;
		for (const a of options.adapters ?? []) this.register(a);
	}

	/** Adds an adapter (sniffers run in registration order). */
	register(adapter: ArrayAdapter): this {
		this.#adapters.set(adapter.name, adapter);
		return this;
	}

	/** Registered adapters. */
	list(): ArrayAdapter[] {
		return [...this.#adapters.values()];
	}

	/** @throws {NoAdapterError} */
	get(name: string): ArrayAdapter {
		const a = this.#adapters.get(name);
		if (!a)
			throw new NoAdapterError(
				`no adapter named ${JSON.stringify(name)}; registered: ${[...this.#adapters.keys()].join(", ")}`,
			);
		return a;
	}

	/**
	 * The adapter for an existing target's probe: sniffers first (two matches →
	 * AmbiguousFormatError), then extension.
	 */
	detect(probe: Probe): ArrayAdapter {
		const hits = this.list().filter((a) => {
			try {
				return a.sniff?.(probe) === true;
			} catch {
				return false;
			}
		});
		if (hits.length > 1) {
			throw new AmbiguousFormatError(
				`${probe.path} looks like ${hits.map((h) => h.name).join(" and ")}; pass a format explicitly`,
				{ target: probe.path },
			);
		}
		if (hits[0]) return hits[0];
		if (!probe.isDirectory) {
			const byExt = this.list().filter((a) =>
				a.extensions.includes(probe.extension),
			);
			if (byExt.length === 1 && byExt[0]) return byExt[0];
			if (byExt.length > 1) {
				throw new AmbiguousFormatError(
					`extension ${probe.extension} fits ${byExt.map((a) => a.name).join(" and ")}`,
					{ target: probe.path },
				);
			}
		}
		throw new NoAdapterError(`no registered adapter recognises ${probe.path}`, {
			target: probe.path,
		});
	}

	/** The adapter that creates files with this target's extension. */
	forCreate(target: string): ArrayAdapter {
		const ext = extensionOf(target);
		const hits = this.list().filter((a) =>
			(a.createExtensions ?? []).includes(ext),
		);
		if (hits.length === 1 && hits[0]) return hits[0];
		const readOnly = this.list().find((a) => a.extensions.includes(ext));
		if (hits.length === 0 && readOnly)
			throw new UnsupportedError(
				`${readOnly.name} (${ext}) is a read-only format`,
				{ target },
			);
		if (hits.length > 1)
			throw new AmbiguousFormatError(
				`extension ${ext} fits ${hits.map((a) => a.name).join(" and ")}`,
				{ target },
			);
		throw new NoAdapterError(
			`no registered adapter creates ${ext || "files without an extension"}`,
			{ target },
		);
	}

	/** Resolves an existing target to its adapter, file and inner path. */
	async resolve(
		target: string,
		format?: string,
	): Promise<{ adapter: ArrayAdapter; file: string; inner: string | null }> {
		const found = this.#probe
			? await this.#probe(target)
			: { file: target, inner: null, probe: null };
		if (format !== undefined)
			return {
				adapter: this.get(format),
				file: found.file,
				inner: found.inner,
			};
		if (!found.probe)
			throw new NotFoundError(`${target} does not exist`, { target });
		return {
			adapter: this.detect(found.probe),
			file: found.file,
			inner: found.inner,
		};
	}

	/**
	 * Opens an existing array (modes r, r+, c) or creates one (w+).
	 * @example const store = await registry.open("data.h5#/grp/x");
	 */
	async open(
		target: string,
		options?: { readonly mode?: "r" } & Omit<OpenExistingOptions, "mode">,
	): Promise<ReadableArrayStore>;
	async open(
		target: string,
		options: OpenExistingOptions | CreateOptions,
	): Promise<ArrayStore>;
	async open(
		target: string,
		options: OpenExistingOptions | CreateOptions = {},
	): Promise<ArrayStore> {
		if (options.mode === "w+")
			return this.create(target, options as CreateOptions);
		try {
			const { adapter, file, inner } = await this.resolve(
				target,
				options.format,
			);
			const mode: Mode = options.mode ?? "r";
			if (!adapter.capabilities.modes.includes(mode))
				throw new UnsupportedError(
					`${adapter.name} does not support mode '${mode}'`,
					{ target },
				);
			const path = options.path ?? inner ?? "";
			const native = mode === "c" && adapter.nativeCopyOnWrite === true;
			const driver = await adapter.open(file, {
				mode: mode === "c" && !native ? "r" : mode,
				path,
				adapterOptions: options.adapterOptions ?? {},
				signal: options.signal,
				...((options as OpenExistingOptions).maxOverlayBytes !== undefined
					? {
							maxOverlayBytes: (options as OpenExistingOptions).maxOverlayBytes,
						}
					: {}),
				...(options.dtype !== undefined
					? { dtype: parseDType(options.dtype) }
					: {}),
				...(options.shape !== undefined ? { shape: options.shape } : {}),
				...(options.order !== undefined ? { order: options.order } : {}),
				...(options.offset !== undefined ? { offset: options.offset } : {}),
			});
			return createArrayStore(driver, {
				format: adapter.name,
				target: path ? `${file}#${path}` : file,
				mode,
				capabilities: adapter.capabilities,
				nativeCopyOnWrite: native,
				maxOverlayBytes: (options as OpenExistingOptions).maxOverlayBytes,
			});
		} catch (err) {
			throw wrapError(err, { target });
		}
	}

	/**
	 * Creates (or replaces) an array: mode w+. The format comes from `format` or the extension;
	 * every refusal (dtype, order, read-only format) happens before any file is created.
	 */
	async create(
		target: string,
		options: Omit<CreateOptions, "mode"> & { readonly mode?: "w+" },
	): Promise<ArrayStore> {
		try {
			const hash = target.lastIndexOf("#");
			const file =
				options.path === undefined && hash > 0 ? target.slice(0, hash) : target;
			const path = options.path ?? (hash > 0 ? target.slice(hash + 1) : "");
			const adapter =
				options.format !== undefined
					? this.get(options.format)
					: this.forCreate(file);
			if (!adapter.create || !adapter.capabilities.modes.includes("w+"))
				throw new UnsupportedError(`${adapter.name} is a read-only format`, {
					target,
				});
			const spec = checkCreate(adapter, { ...options, path });
			const driver = await adapter.create(file, spec);
			return createArrayStore(driver, {
				format: adapter.name,
				target: path ? `${file}#${path}` : file,
				mode: "w+",
				capabilities: adapter.capabilities,
			});
		} catch (err) {
			throw wrapError(err, { target });
		}
	}

	/**
	 * Opens a file or store as a container (HDF5 file, Zarr group, pickle dict, .npz). Single-
	 * array formats appear as one array at path "". Mode w+ creates or replaces the container.
	 */
	async openContainer(
		target: string,
		options: ContainerOptions = {},
	): Promise<ContainerStore> {
		try {
			const mode: Mode = options.mode ?? "r";
			let adapter: ArrayAdapter;
			let file = target;
			if (mode === "w+") {
				adapter =
					options.format !== undefined
						? this.get(options.format)
						: this.forCreate(target);
			} else {
				const r = await this.resolve(target, options.format);
				adapter = r.adapter;
				file = r.file;
			}
			if (!adapter.capabilities.modes.includes(mode))
				throw new UnsupportedError(
					`${adapter.name} does not support mode '${mode}'`,
					{ target },
				);
			const driver = adapter.openContainer
				? await adapter.openContainer(file, {
						...options,
						mode: mode === "c" ? "r" : mode,
					})
				: singleArrayContainer(adapter, file, mode);
			return createContainerStore(driver, {
				adapter,
				target: file,
				mode,
				maxOverlayBytes: options.maxOverlayBytes,
				adapterOptions: options.adapterOptions,
			});
		} catch (err) {
			throw wrapError(err, { target });
		}
	}
}
