"""Source files as byte streams: decompression, and file-system faults as one line each.

CSV and JSON Lines are read through one function, so both decompress the same way
(``compression``: by suffix, or named) and both refuse a compressed file read as
plain text, which would otherwise turn into a confusing parse error or, worse, rows of
binary noise. A fault of the file system (the path is a folder, the file is not
readable, it vanished after it was listed) is a one-line error naming the path with
the exit code it deserves, not a traceback.
"""

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

from steps.runtime.errors import DataRejected, StepError, StepUsageError
from steps.runtime.store import Location

_SUFFIXES = {
    ".gz": "gzip",
    ".gzip": "gzip",
    ".zst": "zstd",
    ".zstd": "zstd",
    ".bz2": "bz2",
    ".lz4": "lz4",
}
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"BZh", "bz2"))
_LZ4_MAGIC = b"\x04\x22\x4d\x18"
_ERRNO = re.compile(r"\[errno (\d+)\]", re.IGNORECASE)
_GONE = ("NO_SUCH_KEY", "NoSuchKey", "RESOURCE_NOT_FOUND", "Path does not exist")
_DENIED = ("ACCESS_DENIED", "AccessDenied")


def codec_for(loc: Location, compression: str) -> str | None:
    """The codec a file is read with (None: uncompressed)."""
    if compression == "auto":
        name = loc.path.rsplit("/", 1)[-1].lower()
        suffix = name[name.rfind(".") :] if "." in name else ""
        return _SUFFIXES.get(suffix)
    return None if compression == "none" else compression


def _error_number(err: OSError) -> int | None:
    if err.errno is not None:
        return err.errno
    found = _ERRNO.search(str(err))
    return int(found.group(1)) if found else None


def _first_line(err: BaseException) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def read_error(uri: str, err: OSError) -> StepError:
    """The one-line error for a file-system fault while reading ``uri``."""
    number = _error_number(err)
    text = str(err)
    if number == errno.EISDIR or "is a directory" in text:
        return StepUsageError(
            f"{uri} is a folder, not a file; name a file, or a glob such as {uri}/*"
        )
    if number in (errno.EACCES, errno.EPERM) or any(s in text for s in _DENIED):
        return StepError(
            f"{uri}: permission denied; let the step's user read it (file or folder mode, "
            "owner, or bucket policy)"
        )
    if number == errno.ENOENT or any(s in text for s in _GONE):
        return StepError(
            f"{uri}: the file is gone (deleted or moved after it was listed, or while it "
            "was read); rerun once the files stay in place"
        )
    return StepError(f"{uri}: cannot read the file: {_first_line(err)}")


def is_file_system_error(err: OSError) -> bool:
    """Whether an error of pyarrow came from the file system rather than the data."""
    text = str(err)
    return (
        _error_number(err) is not None
        or isinstance(err, (FileNotFoundError, PermissionError, IsADirectoryError))
        or any(s in text for s in (*_GONE, *_DENIED, "is a directory", "AWS Error"))
    )


@contextmanager
def reading(loc: Location) -> Iterator[None]:
    """Turn file-system faults inside the block into one-line step errors naming ``loc``."""
    try:
        yield
    except StepError:
        raise
    except OSError as err:
        if not is_file_system_error(err):
            raise
        raise read_error(loc.uri, err) from None


def _looks_compressed(head: bytes) -> str | None:
    for magic, codec in _MAGIC:
        if head.startswith(magic):
            return codec
    return "lz4" if head.startswith(_LZ4_MAGIC) else None


def byte_pieces(loc: Location, compression: str, size: int) -> Iterator[memoryview]:
    """The file's (decompressed) bytes in pieces of up to ``size`` bytes.

    Views of the buffers read, not copies: a CSV's bytes are copied once more on
    their way to the parsers, by the record splitter.
    """
    codec = codec_for(loc, compression)
    with reading(loc):
        raw = loc.fs.open_input_stream(loc.path, compression=None)
    with raw:
        stream = pa.CompressedInputStream(raw, codec) if codec else raw
        first = True
        while True:
            try:
                with reading(loc):
                    piece = memoryview(stream.read(size))
            except (OSError, pa.ArrowInvalid) as err:
                if codec is None:
                    raise
                raise _not_decompressible(loc, codec, err) from None
            if first and codec is None:
                _refuse_compressed(loc, compression, bytes(piece[:16]))
            first = False
            if not piece:
                return
            yield piece


def _refuse_compressed(loc: Location, compression: str, head: bytes) -> None:
    looks = _looks_compressed(head)
    if looks is None:
        return
    how = (
        "compression 'auto' found no compressed suffix on its name"
        if compression == "auto"
        else "compression is 'none'"
    )
    raise StepUsageError(
        f"{loc.uri} looks {looks}-compressed, but {how}; set compression to {looks!r} "
        "(or give the file its suffix)"
    )


def _not_decompressible(loc: Location, codec: str, err: Exception) -> StepError:
    return DataRejected(
        f"{loc.uri}: cannot decompress as {codec}: {_first_line(err)}; check that the file is "
        f"complete and {codec}-compressed, or set compression"
    )
