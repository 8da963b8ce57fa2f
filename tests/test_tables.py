"""Markdown tables of the reports (cantaor.report.tables)."""

from cantaor.report.tables import markdown_table


def test_cells_are_written_verbatim_and_numbers_align_right():
    text = markdown_table(
        [["EC", "0.5000", 2], ["TP", "n/a", 0]], ["singer", "recall", "n"], right=["recall", "n"]
    )
    header, rule, *rows = text.splitlines()
    assert [cell.strip() for cell in header.strip("|").split("|")] == ["singer", "recall", "n"]
    rules = [cell.strip() for cell in rule.strip("|").split("|")]
    assert [(r.startswith(":"), r.endswith(":")) for r in rules] == [
        (True, False),
        (False, True),
        (False, True),
    ]
    assert [[cell.strip() for cell in row.strip("|").split("|")] for row in rows] == [
        ["EC", "0.5000", "2"],  # no number parsing: the caller's formatting stays
        ["TP", "n/a", "0"],
    ]
    assert not text.endswith("\n")


def test_an_empty_table_keeps_its_header():
    header = markdown_table([], ["skipped", "reason"]).splitlines()[0]
    assert header.replace(" ", "") == "|skipped|reason|"
