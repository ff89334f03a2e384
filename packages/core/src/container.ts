/**
 * `createContainerStore`: the public ContainerStore over an adapter's ContainerDriver, with
 * path checks, modes, copy-on-write for mode "c", and children closed with their container.
 */

import { checkCreate } from "./create-check.js";
import type {
	ArrayAdapter,
	ContainerDriver,
	DriverCreateOptions,
} from "./driver.js";
import { parseDType } from "./dtype/parse.js";
import {
	ClosedError,
	InvalidSelectionError,
	ReadOnlyError,
	UnsupportedError,
	wrapError,
} from "./errors.js";
import { createArrayStore } from "./store.js";
import type {
	ArrayStore,
	Attributes,
	Capabilities,
	ContainerStore,
	CreateOptions,
	Mode,
	OpenExistingOptions,
	TreeEntry,
} from "./types.js";

/** Context of a container store. */
export interface ContainerContext {
	readonly adapter: ArrayAdapter;
	readonly target: string;
	readonly mode: Mode;
	readonly maxOverlayBytes?: number;
	readonly adapterOptions?: Readonly<Record<string, unknown>>;
}

/**
 * Checks a member path: no `..` segments, no NUL, no backslashes. Leading `/` is kept
 * (HDF5 spells absolute paths that way) but never lets a key escape the container.
 * @throws {InvalidSelectionError}
 */
export function checkMemberPath(path: string): string {
	if (typeof path !== "string" || path.includes("\0") || path.includes("\\")) {
		throw new InvalidSelectionError(
			`invalid member path ${JSON.stringify(path)}`,
		);
	}
	if (path.split("/").some((part) => part === ".." || part === ".")) {
		throw new InvalidSelectionError(
			`member path ${JSON.stringify(path)} may not contain '.' or '..' segments`,
		);
	}
	return path;
}

/** Wraps a container driver. */
export function createContainerStore(
	driver: ContainerDriver,
	ctx: ContainerContext,
): ContainerStore {
	return new Container(driver, ctx);
}

class Container implements ContainerStore {
	readonly #driver: ContainerDriver;
	readonly #ctx: ContainerContext;
	readonly #children = new Set<ArrayStore>();
	readonly #attrOverlay = new Map<string, Attributes>();
	#closing: Promise<void> | undefined;

	constructor(driver: ContainerDriver, ctx: ContainerContext) {
		this.#driver = driver;
		this.#ctx = ctx;
	}

	get format(): string {
		return this.#ctx.adapter.name;
	}
	get target(): string {
		return this.#ctx.target;
	}
	get mode(): Mode {
		return this.#ctx.mode;
	}
	get capabilities(): Capabilities {
		return this.#ctx.adapter.capabilities;
	}
	get closed(): boolean {
		return this.#closing !== undefined;
	}

	list(
		path = "",
		options?: { readonly recursive?: boolean },
	): Promise<TreeEntry[]> {
		return this.#guard(() =>
			this.#driver.list(checkMemberPath(path), options?.recursive ?? false),
		);
	}

	attrs(path: string): Promise<Attributes> {
		return this.#guard(async () => {
			const own = this.#attrOverlay.get(path);
			return own ?? this.#driver.attrs(checkMemberPath(path));
		});
	}

	setAttrs(path: string, attrs: Attributes): Promise<void> {
		return this.#guard(async () => {
			this.#writable("setAttrs");
			checkMemberPath(path);
			if (this.mode === "c") {
				this.#attrOverlay.set(path, { ...(await this.attrs(path)), ...attrs });
				return;
			}
			if (!this.#driver.setAttrs)
				throw new UnsupportedError(`${this.format} cannot write attributes`);
			await this.#driver.setAttrs(path, attrs);
		});
	}

	openArray(
		path: string,
		options: Omit<OpenExistingOptions, "path" | "format"> = {},
	): Promise<ArrayStore> {
		return this.#guard(async () => {
			const adapter = this.#ctx.adapter;
			const mode = options.mode ?? (this.mode === "w+" ? "r+" : this.mode);
			if (mode !== "r" && mode !== "c" && this.mode === "r")
				throw new ReadOnlyError(`${this.target} is open read-only`);
			if (mode === "c" && !adapter.capabilities.modes.includes("c"))
				throw new UnsupportedError(`${adapter.name} has no mode 'c'`);
			const native = mode === "c" && adapter.nativeCopyOnWrite === true;
			const overlay = options.maxOverlayBytes ?? this.#ctx.maxOverlayBytes;
			const driver = await this.#driver.openArray(checkMemberPath(path), {
				mode: mode === "c" && !native ? "r" : mode,
				path,
				adapterOptions: {
					...this.#ctx.adapterOptions,
					...options.adapterOptions,
				},
				signal: options.signal,
				...(options.dtype !== undefined
					? { dtype: parseDType(options.dtype) }
					: {}),
				...(options.shape !== undefined ? { shape: options.shape } : {}),
				...(options.order !== undefined ? { order: options.order } : {}),
				...(options.offset !== undefined ? { offset: options.offset } : {}),
				...(overlay !== undefined ? { maxOverlayBytes: overlay } : {}),
			});
			return this.#track(driver, path, mode, overlay);
		});
	}

	createGroup(path: string, attrs?: Attributes): Promise<void> {
		return this.#guard(async () => {
			this.#writable("createGroup");
			if (this.mode === "c")
				throw new UnsupportedError(
					"cannot create groups in copy-on-write mode 'c'",
				);
			if (!this.#driver.createGroup || this.capabilities.hierarchy !== "tree")
				throw new UnsupportedError(`${this.format} has no groups`);
			await this.#driver.createGroup(checkMemberPath(path), attrs);
		});
	}

	createArray(
		path: string,
		options: Omit<CreateOptions, "mode" | "path" | "format">,
	): Promise<ArrayStore> {
		return this.#guard(async () => {
			this.#writable("createArray");
			if (this.mode === "c")
				throw new UnsupportedError(
					"cannot create arrays in copy-on-write mode 'c'",
				);
			if (!this.#driver.createArray)
				throw new ReadOnlyError(`${this.format} is a read-only format`);
			const spec: DriverCreateOptions = checkCreate(
				this.#ctx.adapter,
				{ ...options, path: checkMemberPath(path) },
				this.#ctx.adapterOptions,
			);
			const driver = await this.#driver.createArray(path, spec);
			return this.#track(driver, path, "w+");
		});
	}

	delete(path: string): Promise<void> {
		return this.#guard(async () => {
			this.#writable("delete");
			if (!this.#driver.delete || this.mode === "c")
				throw new UnsupportedError(`${this.format} cannot delete members here`);
			await this.#driver.delete(checkMemberPath(path));
		});
	}

	flush(): Promise<void> {
		return this.#guard(async () => {
			if (this.mode === "r" || this.mode === "c") return;
			await this.#driver.flush?.();
		});
	}

	close(): Promise<void> {
		this.#closing ??= (async () => {
			try {
				await Promise.all([...this.#children].map((c) => c.close()));
				if (this.mode === "r+" || this.mode === "w+")
					await this.#driver.flush?.();
			} finally {
				await this.#driver.close();
			}
		})().catch((err: unknown) => {
			throw wrapError(err, { target: this.target, adapter: this.format });
		});
		return this.#closing;
	}

	[Symbol.asyncDispose](): Promise<void> {
		return this.close();
	}

	// --- internal ---

	#track(
		driver: Parameters<typeof createArrayStore>[0],
		path: string,
		mode: Mode,
		maxOverlayBytes?: number,
	): ArrayStore {
		const store: ArrayStore = createArrayStore(driver, {
			format: this.format,
			target: `${this.target}#${path}`,
			mode,
			capabilities: this.capabilities,
			nativeCopyOnWrite: this.#ctx.adapter.nativeCopyOnWrite === true,
			maxOverlayBytes: maxOverlayBytes ?? this.#ctx.maxOverlayBytes,
			onClose: () => this.#children.delete(store),
		});
		this.#children.add(store);
		return store;
	}

	#writable(what: string): void {
		if (this.mode === "r")
			throw new ReadOnlyError(
				`${what}: ${this.target} is open read-only (mode 'r')`,
			);
	}

	async #guard<T>(fn: () => Promise<T>): Promise<T> {
		try {
			if (this.closed) throw new ClosedError(`${this.target} is closed`);
			return await fn();
		} catch (err) {
			throw wrapError(err, { target: this.target, adapter: this.format });
		}
	}
}
