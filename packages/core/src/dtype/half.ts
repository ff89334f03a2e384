/**
 * IEEE 754 binary16 ↔ number. Node 20 has no Float16Array, so float16 data travels as raw
 * 16-bit patterns (Uint16Array) and these helpers convert single values.
 */

/** Decodes one half-precision bit pattern. */
export function halfToNumber(bits: number): number {
	const sign = bits & 0x8000 ? -1 : 1;
	const exp = (bits >> 10) & 0x1f;
	const frac = bits & 0x3ff;
	if (exp === 0) return sign * frac * 2 ** -24;
	if (exp === 0x1f)
		return frac === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
	return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Encodes a number as the nearest half, rounding half to even as numpy does. */
export function numberToHalf(value: number): number {
	if (Number.isNaN(value)) return 0x7e00;
	const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
	const abs = Math.abs(value);
	if (abs >= 65520) return sign | 0x7c00;
	if (abs < 2 ** -14) return sign | roundEven(abs * 2 ** 24); // subnormal; 1024 rolls into the smallest normal
	let e = Math.floor(Math.log2(abs));
	if (2 ** e > abs) e -= 1;
	else if (2 ** (e + 1) <= abs) e += 1;
	let mant = roundEven((abs / 2 ** e - 1) * 1024);
	if (mant === 1024) {
		mant = 0;
		e += 1;
	}
	return sign | ((e + 15) << 10) | mant;
}

function roundEven(q: number): number {
	const f = Math.floor(q);
	const d = q - f;
	if (d > 0.5) return f + 1;
	if (d < 0.5) return f;
	return f % 2 === 0 ? f : f + 1;
}
