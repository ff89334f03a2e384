// Reusable byte buffers for codec scratch space and encoded chunks. A fresh 1 MiB buffer costs
// about 0.2 ms of page faults and zeroing before the first byte lands (and the collector's
// work later); chunk after chunk, the same few buffers serve instead.
//
// `take(n)` hands out a view of exactly `n` bytes; `give(view)` returns it once nothing reads
// it any more. Views the pool did not hand out are ignored by `give`, so callers may return
// whatever they hold. Buffers are bucketed by size (64 KiB steps); the pool keeps at most
// POOL_BYTES and no buffer above MAX_POOLED, so it holds a few chunks' worth of memory at most
// (part of the fixed reserve of core's memory budget, with the codec state).
//
// Plain JavaScript: it runs in the codec worker threads too (one pool per thread).

const STEP = 64 * 1024;
const POOL_BYTES = 16 * 1024 * 1024;
const MAX_POOLED = 4 * 1024 * 1024;

const free = new Map();
const handedOut = new WeakSet();
let pooled = 0;

function capacity(n) {
	return Math.max(STEP, Math.ceil(n / STEP) * STEP);
}

/** A view of `n` bytes (contents undefined) from the pool, or a fresh buffer. */
export function take(n) {
	const cap = capacity(n);
	const list = free.get(cap);
	let buffer = list?.pop();
	if (buffer) pooled -= cap;
	else buffer = new ArrayBuffer(cap);
	const view = new Uint8Array(buffer, 0, n);
	handedOut.add(view);
	return view;
}

/**
 * The first `n` bytes of a view from {@link take}, handed out in its place (the old view must
 * not be given back): an output written into a buffer of its bound, cut to what was written.
 */
export function trim(view, n) {
	if (n === view.length) return view;
	const out = new Uint8Array(view.buffer, view.byteOffset, n);
	if (handedOut.delete(view)) handedOut.add(out);
	return out;
}

/**
 * `view` itself, or a copy in a buffer of its own size when it fills less than half of its
 * buffer (an output cut from a buffer of its bound, kept a while): the big buffer goes back
 * to the pool, so held outputs cost at most twice what they hold.
 */
export function compact(view) {
	const cap = view.buffer.byteLength;
	if (
		!handedOut.has(view) ||
		capacity(view.length) >= cap ||
		view.length * 2 > cap
	)
		return view;
	const out = take(view.length);
	out.set(view);
	give(view);
	return out;
}

/** Returns a view from {@link take}; the caller must not touch it afterwards. */
export function give(view) {
	if (!view || !handedOut.has(view)) return;
	handedOut.delete(view);
	const buffer = view.buffer;
	// A transferred (detached) buffer has length 0.
	if (
		buffer.byteLength === 0 ||
		buffer.byteLength > MAX_POOLED ||
		pooled + buffer.byteLength > POOL_BYTES
	)
		return;
	let list = free.get(buffer.byteLength);
	if (!list) {
		list = [];
		free.set(buffer.byteLength, list);
	}
	list.push(buffer);
	pooled += buffer.byteLength;
}
