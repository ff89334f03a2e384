/**
 * An `ArrayDriver` that also releases the file it came from when it closes (an array opened
 * directly, not through a container, owns its container).
 */
import type {
	ArrayDriver,
	ArrayInfo,
	Attributes,
	Region,
} from "@arraystore/core";

/** Wraps `inner` so that closing it also runs `release`. */
export function ownedDriver(
	inner: ArrayDriver,
	release: () => Promise<void>,
): ArrayDriver {
	const d: ArrayDriver = {
		get info(): ArrayInfo {
			return inner.info;
		},
		read: (region: Region, out: Uint8Array, signal?: AbortSignal) =>
			inner.read(region, out, signal),
		async close() {
			try {
				await inner.close();
			} finally {
				await release();
			}
		},
	};
	const w = inner.write?.bind(inner);
	const f = inner.flush?.bind(inner);
	const a = inner.attrs?.bind(inner);
	const s = inner.setAttrs?.bind(inner);
	return {
		...d,
		get info(): ArrayInfo {
			return inner.info;
		},
		...(w
			? {
					write: (region: Region, bytes: Uint8Array, signal?: AbortSignal) =>
						w(region, bytes, signal),
				}
			: {}),
		...(f
			? { flush: (options?: { readonly durable?: boolean }) => f(options) }
			: {}),
		...(a ? { attrs: (): Promise<Attributes> => a() } : {}),
		...(s ? { setAttrs: (attrs: Attributes) => s(attrs) } : {}),
	};
}
