"""Codecs for the ClickHouse HTTP interface.

Two layers, applied in this order on responses (and reversed on requests):

* ClickHouse's native compressed blocks (``compress=1`` / ``decompress=1``): each block is a
  16-byte CityHash128 checksum of the rest of the block, a 9-byte header (method byte,
  uint32 LE compressed size including the header, uint32 LE uncompressed size) and the payload.
* HTTP ``Content-Encoding`` (gzip, deflate, lz4 frame, zstd) as negotiated with
  ``enable_http_compression=1`` and ``Accept-Encoding``.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Iterator

import lz4.block
import lz4.frame
from clickhouse_cityhash.cityhash import CityHash128

try:  # Python < 3.14 ships zstd through backports.zstd (a clickhouse-connect dependency).
    from backports import zstd as _zstd
except ImportError:  # pragma: no cover - depends on the interpreter
    try:
        from compression import zstd as _zstd  # type: ignore[no-redef]
    except ImportError:
        _zstd = None  # type: ignore[assignment]

METHOD_NONE = 0x02
METHOD_LZ4 = 0x82
METHOD_ZSTD = 0x90
CHECKSUM_SIZE = 16
HEADER_SIZE = 9
BLOCK_SIZE = 1 << 20
_MASK64 = (1 << 64) - 1


class CompressionError(ValueError):
    """A compressed body could not be decoded; ``code`` is the ClickHouse error code."""

    def __init__(self, message: str, code: int = 271) -> None:
        super().__init__(message)
        self.code = code


def checksum(block: bytes) -> bytes:
    """CityHash128 of ``block`` in ClickHouse's wire order (high 64 bits first, each LE)."""
    h = CityHash128(block)
    return struct.pack("<QQ", h >> 64, h & _MASK64)


def compress_block(data: bytes) -> bytes:
    """One LZ4 native block (checksum + header + payload) for ``data``."""
    payload = lz4.block.compress(data, store_size=False)
    block = struct.pack("<BII", METHOD_LZ4, HEADER_SIZE + len(payload), len(data)) + payload
    return checksum(block) + block


def compress_native(data: bytes, block_size: int = BLOCK_SIZE) -> bytes:
    """Frame ``data`` as a sequence of native LZ4 blocks of at most ``block_size`` bytes."""
    view = memoryview(data)
    return b"".join(compress_block(bytes(view[i : i + block_size])) for i in range(0, len(data), block_size))


def _decode_payload(method: int, payload: bytes, raw_size: int) -> bytes:
    """Decompress one block payload according to its method byte."""
    if method == METHOD_LZ4:
        return lz4.block.decompress(payload, uncompressed_size=raw_size)
    if method == METHOD_NONE:
        return payload
    if method == METHOD_ZSTD and _zstd is not None:
        return _zstd.decompress(payload)
    raise CompressionError(f"Unknown compression method: {method:#x}", code=89)


def iter_native_blocks(data: bytes, verify: bool = True) -> Iterator[bytes]:
    """Yield the decompressed contents of each native block in ``data``."""
    pos = 0
    while pos < len(data):
        if len(data) - pos < CHECKSUM_SIZE + HEADER_SIZE:
            raise CompressionError("Truncated compressed block header")
        expected = data[pos : pos + CHECKSUM_SIZE]
        method, size, raw_size = struct.unpack_from("<BII", data, pos + CHECKSUM_SIZE)
        block = data[pos + CHECKSUM_SIZE : pos + CHECKSUM_SIZE + size]
        if size < HEADER_SIZE or len(block) != size:
            raise CompressionError("Truncated compressed block")
        if verify and checksum(block) != expected:
            raise CompressionError("Checksum doesn't match: corrupted data", code=40)
        out = _decode_payload(method, block[HEADER_SIZE:], raw_size)
        if len(out) != raw_size:
            raise CompressionError("Decompressed size does not match the block header")
        yield out
        pos += CHECKSUM_SIZE + size


def decompress_native(data: bytes, verify: bool = True) -> bytes:
    """Decode a whole native-compressed body."""
    return b"".join(iter_native_blocks(data, verify))


def supported_encodings() -> list[str]:
    """HTTP content encodings this module can produce and read, in server preference order."""
    names = ["gzip", "deflate", "lz4"]
    return names + (["zstd"] if _zstd is not None else [])


def pick_encoding(accept_encoding: str) -> str | None:
    """First encoding of the client's ``Accept-Encoding`` list that is supported."""
    supported = supported_encodings()
    for item in accept_encoding.split(","):
        name = item.split(";")[0].strip().lower()
        if name in supported:
            return name
    return None


def encode_content(data: bytes, encoding: str | None) -> bytes:
    """Apply an HTTP content encoding to a response body."""
    if not encoding or encoding == "identity":
        return data
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=3)
    if encoding == "deflate":
        return zlib.compress(data, 3)
    if encoding == "lz4":
        return lz4.frame.compress(data)
    if encoding == "zstd" and _zstd is not None:
        return _zstd.compress(data)
    raise CompressionError(f"Unknown HTTP compression method: {encoding}", code=89)


def decode_content(data: bytes, encoding: str | None) -> bytes:
    """Undo an HTTP ``Content-Encoding`` on a request body."""
    name = (encoding or "").strip().lower()
    try:
        if name in ("", "identity", "none"):
            return data
        if name in ("gzip", "x-gzip"):
            return gzip.decompress(data)
        if name == "deflate":
            return zlib.decompress(data)
        if name == "lz4":
            return lz4.frame.decompress(data)
        if name == "zstd" and _zstd is not None:
            return _zstd.decompress(data)
    except (OSError, EOFError, RuntimeError, zlib.error, ValueError) as exc:
        raise CompressionError(f"Cannot decode {name} request body: {exc}") from exc
    raise CompressionError(f"Unknown HTTP compression method: {name}", code=89)
