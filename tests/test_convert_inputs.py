"""`funnel convert crm-opportunities` on exports that are not what it reads: each is an error naming file,
line and column, never a traceback (the export is examples/data/crm_sales_opportunities, cut short)."""
from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLES
from funnelspec.engine.convert import ConvertError, crm_opportunities

DATA = EXAMPLES / "data" / "crm_sales_opportunities"
TABLES = ("sales_pipeline.csv", "sales_teams.csv", "products.csv", "accounts.csv")


def _small_export(folder, rows: int = 40) -> None:
    """The first rows of the real export: every table, the pipeline cut to `rows` opportunities."""
    for name in TABLES:
        text = (DATA / name).read_bytes()
        if name == "sales_pipeline.csv":
            text = b"".join(text.splitlines(keepends=True)[:rows + 1])
        (folder / name).write_bytes(text)


@pytest.fixture
def export(tmp_path):
    _small_export(tmp_path)
    return tmp_path


def _edit(path, old: bytes, new: bytes, count: int = 1) -> None:
    text = path.read_bytes()
    assert old in text
    path.write_bytes(text.replace(old, new, count))


def _error(export) -> str:
    with pytest.raises(ConvertError) as caught:
        list(crm_opportunities(str(export)))
    return str(caught.value).replace(str(export) + "/", "")


def test_the_small_export_converts(export):
    assert len(list(crm_opportunities(str(export)))) > 40


def test_a_sibling_table_without_a_column_it_needs_is_named(export):
    _edit(export / "sales_teams.csv", b"manager", b"boss")
    assert _error(export) == ("sales_teams.csv:1: no column manager "
                              "(the header has sales_agent, boss, regional_office)")


def test_products_without_the_product_column_is_named(export):
    _edit(export / "products.csv", b"product,", b"prod,")
    assert _error(export).startswith("products.csv:1: no column product (the header has prod, ")


def test_a_pipeline_with_a_renamed_column_is_named(export):
    _edit(export / "sales_pipeline.csv", b",product,", b",produce,")
    assert _error(export).startswith("sales_pipeline.csv:1: no column product (the header has ")


def test_a_price_that_is_not_a_whole_number_is_named_by_line_and_column(export):
    _edit(export / "products.csv", b",550", b",55x")
    assert _error(export) == "products.csv:2:3: sales_price `55x` is not a whole number"


def test_a_close_value_that_is_not_a_whole_number_is_named_by_line_and_column(export):
    _edit(export / "sales_pipeline.csv", b",1054", b",10.54")
    assert _error(export) == "sales_pipeline.csv:2:8: close_value `10.54` is not a whole number"


def test_a_date_that_is_not_a_date_is_named_even_on_an_open_deal(export):
    lines = (export / "sales_pipeline.csv").read_bytes().splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if b",Engaging," in line)
    lines[number] = lines[number].rstrip(b"\r\n").rstrip(b",") + b",garbage,\n"
    (export / "sales_pipeline.csv").write_bytes(b"".join(lines))
    assert _error(export) == f"sales_pipeline.csv:{number + 1}:7: close_date `garbage` is not a date (YYYY-MM-DD)"


def test_a_cell_over_the_csv_modules_limit_is_named_by_line_and_column(export):
    lines = (export / "accounts.csv").read_bytes().splitlines(keepends=True)
    lines[3] = lines[3].rstrip(b"\r\n") + b"x" * 140_000 + b"\n"
    (export / "accounts.csv").write_bytes(b"".join(lines))
    assert _error(export) == ("accounts.csv:4:7: column 7 `subsidiary_of`: a cell over 131,072 characters, "
                              "the most the csv module reads")


def test_bytes_that_are_not_utf8_are_named_by_line_and_column(export):
    _edit(export / "sales_teams.csv", b"Anna Snelling", b"Anna Sn\xe9lling")
    assert _error(export) == "sales_teams.csv:2:1: column 1 `sales_agent`: not valid UTF-8 (byte 8)"


def test_a_short_row_is_named(export):
    with open(export / "sales_pipeline.csv", "ab") as handle:
        handle.write(b"X1,Y\n")
    assert _error(export) == "sales_pipeline.csv:42: a row of 2 cells under a header of 8"


def test_the_cli_says_it_and_exits_2(cli, export):
    _edit(export / "products.csv", b",550", b",55x")
    result = cli("convert", "crm-opportunities", str(export))
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.endswith("products.csv:2:3: sales_price `55x` is not a whole number\n")


MUTATIONS = st.tuples(
    st.sampled_from(TABLES),
    st.sampled_from(["delete", "insert", "replace", "cut"]),
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from([b",", b"\n", b'"', b"\xff", b"\x00", b"x" * 140_000, b"", b"-1", b"1e9", b"\r"]),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3))
def test_a_mutated_export_converts_or_says_where_it_is_wrong(tmp_path, mutations):
    folder = tmp_path / "export"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    _small_export(folder, rows=12)
    for name, kind, where, piece in mutations:
        path = folder / name
        text = path.read_bytes()
        at = where % (len(text) + 1)
        if kind == "delete":
            text = text[:at] + text[at + 1 + where % 20:]
        elif kind == "insert":
            text = text[:at] + piece + text[at:]
        elif kind == "replace":
            text = text[:at] + piece + text[at + len(piece):]
        else:
            text = text[:at]
        path.write_bytes(text)
    try:
        list(crm_opportunities(str(folder)))
    except ConvertError as err:
        message = str(err)
        assert message.startswith(str(folder)), message
        assert message.split(":")[1].isdigit(), message        # path:LINE[:COLUMN]: what is wrong
