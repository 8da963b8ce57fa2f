"""Markdown tables of the reports, written by pandas (``DataFrame.to_markdown``, on tabulate)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def markdown_table(
    rows: Iterable[Sequence[object]], columns: Sequence[str], *, right: Iterable[str] = ()
) -> str:
    """A GitHub (pipe) markdown table of ``rows``, without a final newline.

    Parameters
    ----------
    rows : iterable of sequences
        One sequence of cells per row, in the order of ``columns``; cells are
        written as ``str(cell)``, so numbers are best formatted by the caller.
    columns : sequence of str
        Column headers.
    right : iterable of str
        Headers of the columns aligned right (numbers); the others align left.
    """
    import pandas as pd
    import tabulate  # noqa: F401 - to_markdown's engine: a missing one fails here, by name

    right = set(right)
    frame = pd.DataFrame([[str(cell) for cell in row] for row in rows], columns=list(columns))
    return frame.to_markdown(
        index=False,
        tablefmt="pipe",
        colalign=["right" if column in right else "left" for column in columns],
        disable_numparse=True,
    )
