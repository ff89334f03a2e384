import {
	type AdapterRegistry,
	type ArrayStore,
	type DType,
	isArrayStoreError,
	parseDType,
	type ReadableArrayStore,
	type ScalarFor,
	type TypedArrayFor,
} from "@arraystore/core";
import { describe, expectTypeOf, it } from "vitest";

describe("core: types", () => {
	it("maps dtype codes to typed arrays and scalars", () => {
		expectTypeOf<TypedArrayFor<DType<"c8">>>().toEqualTypeOf<Float32Array>();
		expectTypeOf<TypedArrayFor<DType<"S5">>>().toEqualTypeOf<Uint8Array>();
		expectTypeOf<TypedArrayFor<DType<"i8">>>().toEqualTypeOf<BigInt64Array>();
		expectTypeOf<TypedArrayFor<DType<"f2">>>().toEqualTypeOf<Uint16Array>();
		expectTypeOf<ScalarFor<DType<"i8">>>().toEqualTypeOf<bigint>();
		expectTypeOf<ScalarFor<DType<"b1">>>().toEqualTypeOf<boolean>();
		expectTypeOf<ScalarFor<DType<"f4">>>().toEqualTypeOf<number>();
		expectTypeOf(parseDType("<f4")).toEqualTypeOf<DType<"f4">>();
		expectTypeOf(parseDType("<M8[ns]")).toEqualTypeOf<DType<"M8">>();
	});
	it("gives no write in mode 'r' and requires dtype and shape for w+", () => {
		const registry = {} as AdapterRegistry;
		expectTypeOf(
			registry.open("x.npy"),
		).resolves.toEqualTypeOf<ReadableArrayStore>();
		expectTypeOf(
			registry.open("x.npy", { mode: "r" }),
		).resolves.toEqualTypeOf<ReadableArrayStore>();
		expectTypeOf(
			registry.open("x.npy", { mode: "r+" }),
		).resolves.toEqualTypeOf<ArrayStore>();
		expectTypeOf<ReadableArrayStore>().not.toHaveProperty("write");
		// @ts-expect-error w+ needs shape and dtype
		void registry.open("x.npy", { mode: "w+" });
	});
	it("narrows errors by code", () => {
		const err: unknown = null;
		if (isArrayStoreError(err, "NOT_FOUND"))
			expectTypeOf(err.code).toEqualTypeOf<"NOT_FOUND">();
	});
});
