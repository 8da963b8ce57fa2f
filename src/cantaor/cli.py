"""The ``cantaor`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cantaor import __version__

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def _support(text: str) -> int | float:
    value = float(text)
    return int(value) if value >= 1 and value.is_integer() else value


def _optional_int(text: str) -> int | None:
    return None if text.lower() in ("none", "inf", "unbounded") else int(text)


def _mine(args: argparse.Namespace) -> int:
    from cantaor.mining import mine_closed, read_sequences, write_patterns_tsv

    sequences = read_sequences(args.sequences)
    patterns = mine_closed(
        sequences,
        min_support=args.min_support,
        min_gap=args.min_gap,
        max_gap=args.max_gap,
        min_length=args.min_length,
        max_length=args.max_length,
    )
    if args.output == "-":
        sys.stdout.write("pattern\tsupport\tlength\n")
        for pattern, support in patterns:
            sys.stdout.write(f"{' '.join(map(str, pattern))}\t{support}\t{len(pattern)}\n")
    else:
        write_patterns_tsv(patterns, args.output)
    if not args.quiet:
        print(f"{len(patterns)} closed patterns from {len(sequences)} sequences", file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cantaor",
        description="Flamenco singer identification with acoustic motif embeddings. "
        "The pipeline itself runs with snakemake (see the README); these commands "
        "expose its parts.",
    )
    parser.add_argument("--version", action="version", version=f"cantaor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    mine = commands.add_parser(
        "mine",
        help="mine closed sequential patterns (BIDE) from a text file of sequences",
        description="Mine closed sequential patterns with a gap constraint. The input has "
        "one sequence per line, symbols separated by whitespace; the output is a TSV of "
        "pattern (symbols separated by spaces), support (sequences containing it) and length.",
        epilog="example: cantaor mine phrases.txt -o motifs.tsv --min-support 3 --min-length 3",
    )
    mine.add_argument("sequences", help="text file, one sequence per line")
    mine.add_argument("-o", "--output", default="-", help="output TSV ('-' for stdout, default)")
    mine.add_argument(
        "--min-support",
        type=_support,
        default=2,
        help="sequences that must contain a pattern: a count, or a fraction in (0, 1) (default 2)",
    )
    mine.add_argument(
        "--min-gap", type=int, default=0, help="fewest symbols between pattern symbols (default 0)"
    )
    mine.add_argument(
        "--max-gap",
        type=_optional_int,
        default=0,
        help="most symbols between pattern symbols; 0 contiguous (default), 'none' unbounded",
    )
    mine.add_argument("--min-length", type=int, default=1, help="shortest pattern (default 1)")
    mine.add_argument(
        "--max-length", type=_optional_int, default=None, help="longest pattern (default none)"
    )
    mine.add_argument("-q", "--quiet", action="store_true", help="print no summary on stderr")
    mine.set_defaults(run=_mine)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ValueError as err:
        print(f"cantaor {args.command}: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
