// Test helpers: open Zarr arrays through core's store, as users do.
import {
	type ArrayStore,
	type ContainerStore,
	createArrayStore,
	createContainerStore,
	type DriverCreateOptions,
	parseDType,
} from "@arraystore/core";
import { zarrAdapter } from "../src/index.js";

export async function openZarr(
	target: string,
	path = "",
	mode: "r" | "r+" = "r",
	adapterOptions: Record<string, unknown> = {},
): Promise<ArrayStore> {
	const driver = await zarrAdapter.open(target, { mode, path, adapterOptions });
	return createArrayStore(driver, {
		format: "zarr",
		target,
		mode,
		capabilities: zarrAdapter.capabilities,
	});
}

export interface CreateSpec
	extends Partial<Omit<DriverCreateOptions, "dtype">> {
	readonly dtype: string | DriverCreateOptions["dtype"];
	readonly shape: readonly number[];
}

export async function createZarr(
	target: string,
	spec: CreateSpec,
): Promise<ArrayStore> {
	const driver = await zarrAdapter.create?.(target, {
		path: "",
		order: "C",
		offset: 0,
		exclusive: false,
		adapterOptions: {},
		...spec,
		dtype:
			typeof spec.dtype === "string" || Array.isArray(spec.dtype)
				? parseDType(spec.dtype as never)
				: spec.dtype,
	});
	if (!driver) throw new Error("no create");
	return createArrayStore(driver, {
		format: "zarr",
		target,
		mode: "w+",
		capabilities: zarrAdapter.capabilities,
	});
}

export async function openZarrContainer(
	target: string,
	mode: "r" | "r+" | "w+" = "r",
	adapterOptions: Record<string, unknown> = {},
): Promise<ContainerStore> {
	const driver = await zarrAdapter.openContainer?.(target, {
		mode,
		adapterOptions,
	});
	if (!driver) throw new Error("no container");
	return createContainerStore(driver, {
		adapter: zarrAdapter,
		target,
		mode,
		adapterOptions,
	});
}
