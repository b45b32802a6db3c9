"""Which files a ``path`` names: one file, or a glob over a folder or an S3 prefix.

Local folders and S3 prefixes are listed through the same pyarrow filesystem API and
matched with the same glob rules, so a pattern means the same thing on a laptop and
against MinIO. Globs skip names starting with ``.`` or ``_`` (hidden and staging
files, as Parquet tools do); results are sorted so reruns read in the same order.
"""

import re

import pyarrow.fs as pafs

from steps.extract.files.source import reading
from steps.runtime.errors import StepError, StepUsageError
from steps.runtime.store import Location, is_s3, open_location

_GLOB_CHARS = frozenset("*?[")


def has_glob(path: str) -> bool:
    """Whether ``path`` contains glob characters."""
    return any(c in _GLOB_CHARS for c in path)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a glob relative to its base folder.

    ``*`` and ``?`` stay within one path segment, ``**/`` spans zero or more folders,
    ``[abc]``/``[!abc]`` are character classes.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            negate = body.startswith("!")
            body = (body[1:] if negate else body).replace("\\", "\\\\")
            out.append(f"[{'^' if negate else ''}{body}]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    return re.compile("".join(out))


def _split_base(path: str) -> tuple[str, str]:
    """Split ``path`` into the folder before the first glob segment and the pattern."""
    parts = path.split("/")
    for index, part in enumerate(parts):
        if has_glob(part):
            return "/".join(parts[:index]), "/".join(parts[index:])
    return path, ""


def _visible(relative: str) -> bool:
    return not any(part.startswith((".", "_")) for part in relative.split("/"))


def list_source_files(path: str) -> list[Location]:
    """The files ``path`` names, sorted; a StepError when there are none."""
    root = open_location(path if is_s3(path) else path.split("://", 1)[-1])
    if not has_glob(path):
        with reading(root):
            kind = root.fs.get_file_info(root.path).type
        if kind == pafs.FileType.Directory:
            raise StepUsageError(
                f"{root.uri} is a folder, not a file; name a file, or a glob such as {root.uri}/*"
            )
        if kind == pafs.FileType.Unknown:
            raise StepUsageError(
                f"{root.uri} is not a regular file (a pipe, socket or device); name a file"
            )
        if kind != pafs.FileType.File:
            raise StepError(f"file not found: {root.uri}; check the path")
        return [root]
    base, pattern = _split_base(root.path)
    uri_base, _ = _split_base(root.uri)
    regex = glob_regex(pattern)
    selector = pafs.FileSelector(
        base, recursive="/" in pattern or "**" in pattern, allow_not_found=True
    )
    matches: list[Location] = []
    with reading(root):
        infos = root.fs.get_file_info(selector)
    for info in infos:
        relative = info.path[len(base) :].lstrip("/")
        if info.type == pafs.FileType.File and _visible(relative) and regex.fullmatch(relative):
            matches.append(Location(info.path, f"{uri_base}/{relative}"))
    if not matches:
        raise StepError(f"no files match {root.uri}; check the path and the glob pattern")
    return sorted(matches, key=lambda loc: loc.path)
