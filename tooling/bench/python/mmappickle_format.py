"""mmappickle format version 1, just enough for the benchmark: write a one-entry file and find an
entry's array data the way mmappickle does (formats.md §5).

The writer produces the bytes mmappickle 1.0.1 writes for `m[key] = array` on a new file
(unaligned data, commit number 1), so plain `pickle.load` under numpy < 2.3 loads it. mmappickle
is not installable here, and numpy >= 2.3 cannot `pickle.load` these files, hence our own.
"""

import struct

import numpy as np

HEADER_LEN = 24
TERMINATOR = b"\x95" + struct.pack("<Q", 2) + b"\x64\x2e"
# numpy.core.fromnumeric.reshape(numpy.core.multiarray.fromstring(DATA, DTYPE), SHAPE)
PREFIX = (
    b"\x8c\x16numpy.core.fromnumeric\x8c\x07reshape\x93"
    b"\x8c\x15numpy.core.multiarray\x8c\x0afromstring\x93"
)
assert len(PREFIX) == 70


def header(commit: int) -> bytes:
    return (
        b"\x80\x04\x95"
        + struct.pack("<Q", 13)
        + b"\x4a"
        + struct.pack("<i", 1)
        + b"\x30\x4a"
        + struct.pack("<i", commit)
        + b"\x30\x28"
    )


def pickle_int(n: int) -> bytes:
    if n < 256:
        return b"\x4b" + struct.pack("<B", n)
    if n < 65536:
        return b"\x4d" + struct.pack("<H", n)
    return b"\x4a" + struct.pack("<i", n)


def shape_tuple(shape) -> bytes:
    body = b"".join(pickle_int(n) for n in shape)
    if len(shape) == 0:
        return b"\x29"
    if len(shape) <= 3:
        return body + bytes([0x84 + len(shape)])
    return b"\x28" + body + b"\x74"


def write_single(path: str, key: str, dtype: np.dtype, shape, fill_data) -> int:
    """Writes a file holding one live array entry; fill_data(f, data_offset) writes the nbytes of
    C-order data at the current position. Returns the data offset."""
    k = key.encode("utf-8")
    nbytes = int(np.prod(shape)) * dtype.itemsize
    dt = str(dtype).encode("ascii")
    tail = b"\x8c" + bytes([len(dt)]) + dt + b"\x86\x52" + shape_tuple(shape) + b"\x86\x52"
    trailer = b"\x4a" + struct.pack("<i", 0) + b"\x30\x88\x30"
    value_len = len(PREFIX) + 9 + nbytes + len(tail)
    frame_len = 2 + len(k) + value_len + len(trailer)
    with open(path, "wb") as f:
        f.write(header(1))
        f.write(b"\x95" + struct.pack("<Q", frame_len) + b"\x8c" + bytes([len(k)]) + k)
        f.write(PREFIX + b"\x8e" + struct.pack("<Q", nbytes))
        offset = f.tell()
        fill_data(f, offset)
        assert f.tell() == offset + nbytes
        f.write(tail + trailer + TERMINATOR)
    return offset


def locate(path: str, key: str) -> tuple[int, np.dtype, tuple[int, ...]]:
    """(data offset, dtype, shape) of a live array entry, found as mmappickle finds it: walk the
    frames, take the last live entry with the key, parse the 70-byte prefix, BINBYTES8, the dtype
    string and the shape tuple."""
    with open(path, "rb") as f:
        data = f.read(HEADER_LEN)
        if data[:3] != b"\x80\x04\x95" or data[11:16] != b"\x4a\x01\x00\x00\x00":
            raise ValueError("not an mmappickle v1 file")
        f.seek(0, 2)
        end = f.tell() - len(TERMINATOR)
        pos, found = HEADER_LEN, None
        while pos < end:
            f.seek(pos)
            head = f.read(11)
            (frame_len,) = struct.unpack("<Q", head[1:9])
            klen = head[10]
            k = f.read(klen).decode("utf-8")
            f.seek(pos + 9 + frame_len - 2)
            live = f.read(1) == b"\x88"
            if live and k == key:
                found = (pos + 11 + klen, pos + 9 + frame_len - 8)
            pos += 9 + frame_len
        if found is None:
            raise KeyError(key)
        value, value_end = found
        f.seek(value)
        if f.read(70) != PREFIX or f.read(1) != b"\x8e":
            raise ValueError("entry is not a memory-mappable ndarray")
        (nbytes,) = struct.unpack("<Q", f.read(8))
        offset = value + 79
        f.seek(offset + nbytes)
        rest = f.read(value_end - offset - nbytes)
    dlen = rest[1]
    dtype = np.dtype(rest[2 : 2 + dlen].decode("ascii"))
    shape = parse_shape(rest[2 + dlen + 2 :])
    if int(np.prod(shape)) * dtype.itemsize != nbytes:
        raise ValueError("shape and payload size disagree")
    return offset, dtype, shape


def parse_shape(buf: bytes) -> tuple[int, ...]:
    dims, i = [], 0
    while i < len(buf):
        op = buf[i]
        if op == 0x4B:
            dims.append(buf[i + 1])
            i += 2
        elif op == 0x4D:
            dims.append(struct.unpack("<H", buf[i + 1 : i + 3])[0])
            i += 3
        elif op == 0x4A:
            dims.append(struct.unpack("<i", buf[i + 1 : i + 5])[0])
            i += 5
        elif op in (0x28,):
            i += 1
        else:
            break
    return tuple(dims)
