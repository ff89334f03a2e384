/**
 * `createArrayStore`: the one implementation of the public ArrayStore contract over an
 * adapter's driver. Selections, byte order, transposition, scalar broadcast, block iteration,
 * copy-on-write, closed state and error wrapping all live here.
 */
import { gridBlocks } from "./blocks.js";
import { nativeToStored, storedToNative } from "./convert.js";
import { cowOverlay, DEFAULT_OVERLAY_BYTES } from "./cow-overlay.js";
import type { ArrayDriver, Region } from "./driver.js";
import { encodeElement } from "./dtype/elements.js";
import { isBigEndian, sameLayout, withByteOrder } from "./dtype/format.js";
import { isVString } from "./dtype/model.js";
import { swapInPlace } from "./dtype/swap.js";
import {
	type ArrayData,
	MAX_ARRAY_BYTES,
	makeArrayData,
	type Scalar,
	shapeSize,
} from "./dtype/typed.js";
import {
	ClosedError,
	DTypeMismatchError,
	LimitExceededError,
	ReadOnlyError,
	ShapeMismatchError,
	UnsupportedError,
	wrapError,
} from "./errors.js";
import { planIterBlocks } from "./iter-plan.js";
import { copyElements, type StridedView, stridesOf } from "./layout.js";
import {
	type ResolvedSelection,
	regionToSelection,
	resolveSelection,
	type Selection,
	simpleBox,
} from "./selection.js";
import {
	boxIndices,
	boxView,
	forEachSub,
	isArrayData,
	splitDim,
} from "./selection-box.js";
import type {
	ArrayStore,
	Attributes,
	Block,
	Capabilities,
	IoOptions,
	IterBlocksOptions,
	Mode,
	ReadOptions,
} from "./types.js";

/** Who the store belongs to. */
export interface StoreContext {
	/** Adapter name, reported as `store.format`. */
	readonly format: string;
	/** "file.h5#/grp/x" */
	readonly target: string;
	readonly mode: Mode;
	readonly capabilities: Capabilities;
	/** Mode "c" handled by the driver itself (no overlay). */
	readonly nativeCopyOnWrite?: boolean;
	readonly maxOverlayBytes?: number;
	/** Called once after the store closed (containers track their children). */
	readonly onClose?: () => void;
}

// Strided selections read their bounding box when it is at most this much larger than the result.
const BOX_SLACK_BYTES = 16 * 1024 * 1024;

/** Builds the public store from a driver. */
export function createArrayStore(
	driver: ArrayDriver,
	ctx: StoreContext,
): ArrayStore {
	const d =
		ctx.mode === "c" && !ctx.nativeCopyOnWrite
			? cowOverlay(driver, ctx.maxOverlayBytes ?? DEFAULT_OVERLAY_BYTES)
			: driver;
	return new Store(d, ctx);
}

class Store implements ArrayStore {
	readonly #driver: ArrayDriver;
	readonly #ctx: StoreContext;
	#closing: Promise<void> | undefined;
	#closed = false;

	constructor(driver: ArrayDriver, ctx: StoreContext) {
		this.#driver = driver;
		this.#ctx = ctx;
	}

	get format(): string {
		return this.#ctx.format;
	}
	get target(): string {
		return this.#ctx.target;
	}
	get mode(): Mode {
		return this.#ctx.mode;
	}
	get capabilities(): Capabilities {
		return this.#ctx.capabilities;
	}
	get closed(): boolean {
		return this.#closed || this.#closing !== undefined;
	}
	get info(): ArrayStore["info"] {
		this.#check();
		return this.#driver.info;
	}

	async attrs(options?: IoOptions): Promise<Attributes> {
		return this.#guard(options, async () =>
			this.#driver.attrs ? this.#driver.attrs() : {},
		);
	}

	async setAttrs(attrs: Attributes, options?: IoOptions): Promise<void> {
		return this.#guard(options, async () => {
			this.#writable("setAttrs");
			if (!this.#driver.setAttrs)
				throw new UnsupportedError(`${this.format} stores have no attributes`);
			await this.#driver.setAttrs(attrs);
		});
	}

	async resize(shape: readonly number[], options?: IoOptions): Promise<void> {
		return this.#guard(options, async () => {
			this.#writable("resize");
			if (!this.#driver.resize)
				throw new UnsupportedError(`${this.format} stores cannot be resized`);
			if (
				shape.length !== this.#driver.info.shape.length ||
				!shape.every((n) => Number.isSafeInteger(n) && n >= 0)
			) {
				throw new ShapeMismatchError(
					`resize needs ${this.#driver.info.shape.length} non-negative dimensions`,
				);
			}
			await this.#driver.resize(shape);
		});
	}

	async flush(
		options?: IoOptions & { readonly durable?: boolean },
	): Promise<void> {
		return this.#guard(options, async () => {
			if (this.mode === "r" || this.mode === "c") return;
			await this.#driver.flush?.({ durable: options?.durable ?? false });
		});
	}

	close(): Promise<void> {
		this.#closing ??= (async () => {
			try {
				if ((this.mode === "r+" || this.mode === "w+") && this.#driver.flush)
					await this.#driver.flush({});
			} finally {
				try {
					await this.#driver.close();
				} finally {
					this.#closed = true;
					this.#ctx.onClose?.();
				}
			}
		})().catch((err: unknown) => {
			throw wrapError(err, this.#details());
		});
		return this.#closing;
	}

	[Symbol.asyncDispose](): Promise<void> {
		return this.close();
	}

	read(selection?: Selection, options?: ReadOptions): Promise<ArrayData> {
		const fast = this.#readBox(selection, options);
		if (fast !== null) return fast;
		return this.#guard(options, async () => {
			const info = this.#driver.info;
			const sel = resolveSelection(info.shape, selection ?? []);
			if (isVString(info.dtype)) return this.#readStrings(sel, options?.signal);
			const native = withByteOrder(info.dtype, "native");
			const nbytes = sel.size * info.dtype.itemsize;
			if (nbytes > MAX_ARRAY_BYTES)
				throw new LimitExceededError(
					`reading ${nbytes} bytes at once exceeds the 4 GiB limit; use iterBlocks`,
				);
			let bytes: Uint8Array;
			if (options?.out) {
				if (options.out.bytes.length !== nbytes)
					throw new ShapeMismatchError(
						`out holds ${options.out.bytes.length} bytes, the selection ${nbytes}`,
					);
				bytes = options.out.bytes;
			} else {
				bytes = new Uint8Array(new ArrayBuffer(nbytes));
			}
			await this.#readSel(
				sel,
				{ bytes, base: 0, strides: stridesOf(sel.fullShape, "C") },
				options?.signal,
			);
			return options?.out ?? makeArrayData(native, sel.outShape, bytes);
		});
	}

	// The common read — one step-1 box, stored in C order (or a box with one dimension longer
	// than 1), of a fixed-size dtype — straight into the result: what #readSel would do, minus
	// the general path's bookkeeping. Null for anything else (the general path then resolves
	// the selection, and raises its errors).
	#readBox(
		selection: Selection | undefined,
		options: ReadOptions | undefined,
	): Promise<ArrayData> | null {
		if (this.#closed || this.#closing !== undefined) return null;
		const info = this.#driver.info;
		if (isVString(info.dtype)) return null;
		const simple = simpleBox(info.shape, selection ?? []);
		if (simple === null) return null;
		const { box, size } = simple;
		if (info.order !== "C") {
			let long = 0;
			for (const n of box.shape) if (n > 1) long++;
			if (long > 1) return null;
		}
		const nbytes = size * info.dtype.itemsize;
		if (nbytes > MAX_ARRAY_BYTES) return null;
		const out = options?.out;
		if (out !== undefined && out.bytes.length !== nbytes) return null;
		const signal = options?.signal;
		const fail = (err: unknown): never => {
			throw wrapError(err, this.#details());
		};
		try {
			signal?.throwIfAborted();
			const bytes = out?.bytes ?? new Uint8Array(new ArrayBuffer(nbytes));
			const result =
				out ??
				makeArrayData(
					withByteOrder(info.dtype, "native"),
					simple.outShape,
					bytes,
				);
			if (size === 0) return Promise.resolve(result);
			// then() rather than an async function: one promise less per small read.
			return this.#driver.read(box, bytes, signal).then(() => {
				storedToNative(bytes, [size], info.dtype, "C");
				return result;
			}, fail);
		} catch (err) {
			return Promise.reject(wrapError(err, this.#details()));
		}
	}

	async write(
		selection: Selection,
		value: unknown,
		options?: IoOptions,
	): Promise<void> {
		return this.#guard(options, async () => {
			this.#writable("write");
			const info = this.#driver.info;
			const sel = resolveSelection(info.shape, selection);
			if (isVString(info.dtype))
				return this.#writeStrings(sel, value, options?.signal);
			if (!this.#driver.write)
				throw new ReadOnlyError(`${this.format} is a read-only format`);
			const bytes = this.#toNativeBytes(sel, value);
			await this.#writeSel(
				sel,
				{ bytes, base: 0, strides: stridesOf(sel.fullShape, "C") },
				options?.signal,
			);
		});
	}

	iterBlocks(options: IterBlocksOptions = {}): AsyncIterableIterator<Block> {
		this.#check();
		const info = this.#driver.info;
		const plan = planIterBlocks(info, options);
		const prefetch = Math.max(0, options.prefetch ?? 1);
		const grid = gridBlocks(plan.region, plan.blockShape);
		const queue: Promise<Block>[] = [];
		const load = (g: {
			index: readonly number[];
			region: Region;
		}): Promise<Block> => {
			const p = this.read(regionToSelection(g.region), {
				signal: options.signal,
			}).then((data) => ({
				...data,
				shape: g.region.shape,
				index: g.index,
				offset: g.region.start,
				selection: regionToSelection(g.region),
			}));
			p.catch(() => {}); // observed when dequeued; avoids unhandled rejections for dropped prefetches
			return p;
		};
		const fill = () => {
			while (queue.length <= prefetch) {
				const next = grid.next();
				if (next.done) return;
				queue.push(load(next.value));
			}
		};
		const iterator: AsyncIterableIterator<Block> = {
			next: async () => {
				options.signal?.throwIfAborted();
				this.#check();
				fill();
				const head = queue.shift();
				if (!head) return { done: true, value: undefined };
				const value = await head;
				return { done: false, value };
			},
			return: async () => {
				queue.length = 0;
				return { done: true, value: undefined };
			},
			[Symbol.asyncIterator]() {
				return iterator;
			},
		};
		return iterator;
	}

	// --- internal ---

	#details() {
		return { target: this.target, adapter: this.format };
	}

	#check(): void {
		if (this.closed)
			throw new ClosedError(`${this.target} is closed`, this.#details());
	}

	#writable(what: string): void {
		if (this.mode === "r")
			throw new ReadOnlyError(
				`${what}: ${this.target} is open read-only (mode 'r')`,
				this.#details(),
			);
	}

	async #guard<T>(
		options: IoOptions | undefined,
		fn: () => Promise<T>,
	): Promise<T> {
		try {
			this.#check();
			options?.signal?.throwIfAborted();
			return await fn();
		} catch (err) {
			throw wrapError(err, this.#details());
		}
	}

	// Reads a resolved selection into a strided destination (native C order).
	async #readSel(
		sel: ResolvedSelection,
		out: StridedView,
		signal: AbortSignal | undefined,
	): Promise<void> {
		if (sel.size === 0) return;
		const info = this.#driver.info;
		const itemsize = info.dtype.itemsize;
		const boxSize = shapeSize(sel.box.shape);
		const split = splitDim(sel);
		if (split !== null && (boxSize - sel.size) * itemsize > BOX_SLACK_BYTES) {
			await forEachSub(sel, split, out, (s, o) => this.#readSel(s, o, signal));
			return;
		}
		const whole =
			sel.contiguous &&
			boxSize === sel.size &&
			out.base === 0 &&
			out.bytes.length === boxSize * itemsize;
		if (
			whole &&
			(info.order === "C" || sel.box.shape.filter((n) => n > 1).length <= 1)
		) {
			// The result is exactly the stored box in C order: read straight into it (no copy).
			await this.#driver.read(sel.box, out.bytes, signal);
			storedToNative(out.bytes, [boxSize], info.dtype, "C");
			return;
		}
		let box: Uint8Array = new Uint8Array(new ArrayBuffer(boxSize * itemsize));
		await this.#driver.read(sel.box, box, signal);
		box = storedToNative(box, sel.box.shape, info.dtype, info.order);
		copyElements(boxView(sel, box), out, sel.fullShape, itemsize);
	}

	async #writeSel(
		sel: ResolvedSelection,
		src: StridedView,
		signal: AbortSignal | undefined,
	): Promise<void> {
		if (sel.size === 0) return;
		const driver = this.#driver;
		const info = driver.info;
		const itemsize = info.dtype.itemsize;
		const boxSize = shapeSize(sel.box.shape);
		const split = splitDim(sel);
		if (split !== null && (boxSize - sel.size) * itemsize > BOX_SLACK_BYTES) {
			await forEachSub(sel, split, src, (s, o) => this.#writeSel(s, o, signal));
			return;
		}
		let box: Uint8Array;
		if (
			boxSize === sel.size &&
			sel.contiguous &&
			src.base === 0 &&
			src.bytes.length === boxSize * itemsize
		) {
			box = src.bytes;
		} else {
			box = new Uint8Array(new ArrayBuffer(boxSize * itemsize));
			if (boxSize !== sel.size) {
				// Strided: the gaps keep what is stored (read-modify-write of the bounding box).
				await driver.read(sel.box, box, signal);
				box = storedToNative(box, sel.box.shape, info.dtype, info.order);
			}
			copyElements(src, boxView(sel, box), sel.fullShape, itemsize);
		}
		await (driver.write as NonNullable<ArrayDriver["write"]>)(
			sel.box,
			nativeToStored(box, sel.box.shape, info.dtype, info.order),
			signal,
		);
	}

	#toNativeBytes(sel: ResolvedSelection, value: unknown): Uint8Array {
		const dtype = this.#driver.info.dtype;
		const itemsize = dtype.itemsize;
		const nbytes = sel.size * itemsize;
		if (isArrayData(value)) {
			if (!sameLayout(value.dtype, dtype)) {
				throw new DTypeMismatchError(
					`cannot write ${value.dtype.str} data into a ${dtype.str} array`,
				);
			}
			if (shapeSize(value.shape) !== sel.size) {
				throw new ShapeMismatchError(
					`data of shape [${value.shape.join(", ")}] does not fit the selection of shape [${sel.outShape.join(", ")}]`,
				);
			}
			if (!isBigEndian(value.dtype)) return value.bytes;
			const copy = value.bytes.slice();
			swapInPlace(value.dtype, copy);
			return copy;
		}
		if (ArrayBuffer.isView(value)) {
			const bytes = new Uint8Array(
				value.buffer,
				value.byteOffset,
				value.byteLength,
			);
			if (bytes.length !== nbytes) {
				throw new ShapeMismatchError(
					`typed array of ${bytes.length} bytes does not fit the selection of ${sel.size} × ${itemsize} bytes`,
				);
			}
			return bytes;
		}
		// A scalar: broadcast by doubling copies.
		const one = encodeElement(withByteOrder(dtype, "native"), value as Scalar);
		const out = new Uint8Array(new ArrayBuffer(nbytes));
		if (nbytes === 0) return out;
		out.set(one);
		for (let filled = itemsize; filled < nbytes; filled *= 2)
			out.copyWithin(filled, 0, Math.min(filled, nbytes - filled));
		return out;
	}

	async #readStrings(
		sel: ResolvedSelection,
		signal: AbortSignal | undefined,
	): Promise<ArrayData> {
		const driver = this.#driver;
		if (!driver.readStrings)
			throw new UnsupportedError(
				"this store cannot read variable-length strings",
			);
		const dtype = driver.info.dtype;
		if (sel.size === 0)
			return {
				dtype,
				shape: sel.outShape,
				bytes: new Uint8Array(0),
				data: [] as string[],
			} as ArrayData;
		const box = await driver.readStrings(sel.box, signal);
		const data = boxIndices(sel).map((i) => box[i] as string);
		return {
			dtype,
			shape: sel.outShape,
			bytes: new Uint8Array(0),
			data,
		} as ArrayData;
	}

	async #writeStrings(
		sel: ResolvedSelection,
		value: unknown,
		signal: AbortSignal | undefined,
	): Promise<void> {
		const driver = this.#driver;
		if (!driver.writeStrings || !driver.readStrings)
			throw new UnsupportedError(
				"this store cannot write variable-length strings",
			);
		const values =
			typeof value === "string"
				? new Array<string>(sel.size).fill(value)
				: Array.isArray(value)
					? value
					: isArrayData(value)
						? (value.data as unknown)
						: undefined;
		if (!Array.isArray(values) || !values.every((v) => typeof v === "string"))
			throw new DTypeMismatchError(
				"variable-length string arrays take strings",
			);
		if (values.length !== sel.size)
			throw new ShapeMismatchError(
				`${values.length} strings for a selection of ${sel.size}`,
			);
		if (sel.size === 0) return;
		const boxSize = shapeSize(sel.box.shape);
		const box =
			boxSize === sel.size
				? new Array<string>(boxSize)
				: await driver.readStrings(sel.box, signal);
		boxIndices(sel).forEach((b, i) => {
			box[b] = values[i] as string;
		});
		await driver.writeStrings(sel.box, box, signal);
	}
}
