"""The CSV record splitter against pyarrow's own parse of whole files (in process, fast)."""

import io
import random

import pyarrow.csv as pacsv
import pytest

from steps.extract.files.records import split_records

FIELDS = ["plain", "", '"quoted"', '"with ""doubled"" quotes"', '"two\nlines"', '"a,b"']
ODD = ['5"3', '"ab"cd', '"ab"c"d', 'x""y']


def parse(data: bytes) -> list[dict[str, str]]:
    if not data.strip():
        return []
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=["a", "b", "c"], use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False, column_types=dict.fromkeys("abc", "string")
        ),
    ).to_pylist()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("odd", [False, True])
def test_chunks_are_whole_records_wherever_blocks_end(seed: int, odd: bool) -> None:
    rng = random.Random(seed)
    choices = FIELDS + (ODD if odd else [])
    lines = [",".join(rng.choice(choices) for _ in range(3)) for _ in range(400)]
    data = ("\r\n" if seed % 2 else "\n").join(lines).encode() + b"\n"
    expected = parse(data)

    for block_size in (100, 131, 512, 1 << 20):
        pieces = [data[i : i + 13] for i in range(0, len(data), 13)]
        chunks = list(
            split_records(
                iter(pieces),
                quote=ord('"'),
                delimiter=ord(","),
                max_field_bytes=40,
                block_size=block_size,
            )
        )
        assert all(c.broken is None for c in chunks)
        assert b"".join(c.data for c in chunks) == data
        assert [row for c in chunks for row in parse(bytes(c.data))] == expected
