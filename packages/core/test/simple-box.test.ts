import { describe, expect, it } from "vitest";
import {
	resolveSelection,
	type Selection,
	type Slice,
	simpleBox,
} from "../src/selection.js";

function prng(seed: number): () => number {
	let a = seed;
	return () => {
		a = (a * 1103515245 + 12345) % 2147483648;
		return a / 2147483648;
	};
}

// Random indices over a dimension of length n: in and out of range, negative, null bounds,
// steps 1, absent, null and others, non-integers now and then.
function randomIndex(n: number, r: () => number): number | Slice | null {
	const pick = (): number | null | undefined => {
		const u = r();
		if (u < 0.15) return null;
		if (u < 0.2) return undefined;
		if (u < 0.23) return 0.5;
		return Math.floor(r() * (2 * n + 6)) - n - 3;
	};
	const u = r();
	if (u < 0.1) return null;
	if (u < 0.35) {
		const i = pick();
		return typeof i === "number" ? i : 0;
	}
	const steps = [undefined, null, 1, 1, 1, 2, -1, 0];
	const step = steps[Math.floor(r() * steps.length)];
	return {
		start: pick(),
		stop: pick(),
		...(step === undefined ? {} : { step }),
	};
}

describe("core: simple boxes", () => {
	it("agree with resolveSelection wherever they apply, and leave the rest to it", () => {
		const r = prng(5);
		let simple = 0;
		let general = 0;
		for (let i = 0; i < 5000; i++) {
			const dims = Math.floor(r() * 4);
			const shape = Array.from({ length: dims }, () => Math.floor(r() * 7));
			const len = Math.min(
				dims + (r() < 0.1 ? 1 : 0),
				Math.floor(r() * (dims + 2)),
			);
			const sel: Selection = Array.from({ length: len }, (_, d) =>
				randomIndex(shape[d] ?? 3, r),
			);
			const got = simpleBox(shape, sel);
			let want: ReturnType<typeof resolveSelection> | Error;
			try {
				want = resolveSelection(shape, sel);
			} catch (err) {
				want = err as Error;
			}
			if (got === null) {
				general++;
				// Null only for what is not a valid step-1 selection.
				if (!(want instanceof Error))
					expect(
						want.dims.some((d) => d.step !== 1 && d.count > 0) ||
							sel.some(
								(x) =>
									x !== null &&
									typeof x === "object" &&
									x.step !== undefined &&
									x.step !== null &&
									x.step !== 1,
							),
						JSON.stringify({ shape, sel }),
					).toBe(true);
				continue;
			}
			simple++;
			expect(want, JSON.stringify({ shape, sel })).not.toBeInstanceOf(Error);
			if (want instanceof Error) continue;
			expect(got.box, JSON.stringify({ shape, sel })).toEqual(want.box);
			expect(got.outShape).toEqual(want.outShape);
			expect(got.size).toBe(want.size);
		}
		// Both kinds were exercised.
		expect(simple).toBeGreaterThan(1000);
		expect(general).toBeGreaterThan(1000);
	});
});
