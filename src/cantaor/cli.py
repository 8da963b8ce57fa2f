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
    from cantaor.mining.bide import mine_closed, read_sequences, write_patterns_tsv

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


def _count_arg(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a count >= 0, got {text}")
    return value


def _quiet_essentia() -> None:
    """Silence essentia's informational start-up lines (warnings and errors stay)."""
    try:
        import essentia
    except ImportError:  # pragma: no cover - essentia is a dependency
        return
    essentia.log.infoActive = False


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _bar(probability: float, width: int = 30) -> str:
    return "#" * round(probability * width)


def format_identification(result: dict, *, brief: bool = False) -> str:
    """A readable summary of one :func:`cantaor.identify.recording.identify_recording` result.

    Parameters
    ----------
    result : dict
        The result.
    brief : bool
        Only the verdict line.
    """
    if result["verdict"] is None:
        head = f"{result['path']}: none of the known singers ({result['reason']})"
    else:
        head = f"{result['path']}: {result['verdict']} (probability {result['confidence']:.3f})"
    warnings = (result.get("f0_quality") or {}).get("warnings") or []
    if brief:
        return "\n".join([head, *(f"  WARNING: f0 looks wrong: {w}" for w in warnings)])
    lines = [
        head,
        f"  {result['duration_s']:.1f} s, {result['voiced_s']:.1f} s voiced, "
        f"{_count(result['n_phrases'], 'phrase')}, "
        f"{_count(result['n_motif_occurrences'], 'motif occurrence')}, "
        f"{_count(result['n_items'], 'span')} scored",
    ]
    lines += [f"  WARNING: f0 looks wrong: {warning}" for warning in warnings]
    if result["probabilities"] is not None:
        ranked = sorted(result["probabilities"].items(), key=lambda item: -item[1])
        width = max(len("singer"), *(len(singer) for singer, _ in ranked))
        lines.append(f"  {'singer':<{width}}  probability  items")
        for singer, probability in ranked:
            lines.append(
                f"  {singer:<{width}}  {probability:11.3f}  {result['votes'][singer]:5d}  "
                f"{_bar(probability)}"
            )
    if result["motifs"]:
        motifs = result["motifs"]
        id_width = max(len("motif"), *(len(m["motif_id"]) for m in motifs))
        singer_width = max(len("dictionary"), *(len(m["singer"]) for m in motifs))
        lines.append("  motifs found, most frequent first:")
        lines.append(
            f"  {'count':>5}  {'motif':<{id_width}}  {'dictionary':<{singer_width}}  pattern"
        )
        for motif in motifs:
            lines.append(
                f"  {motif['count']:5d}  {motif['motif_id']:<{id_width}}  "
                f"{motif['singer']:<{singer_width}}  {motif['pattern']}"
            )
    return "\n".join(lines)


def _identify(args: argparse.Namespace) -> int:
    import json

    from cantaor.identify.modeldir import load_model_dir
    from cantaor.identify.recording import identify_recording
    from cantaor.util.logs import line_logger
    from cantaor.util.progress import Progress, terminal

    _quiet_essentia()
    model_dir = load_model_dir(args.model_dir)
    log = line_logger() if args.verbose else None
    if log is not None:
        log(
            f"{model_dir.path}: {model_dir.model_name} on {model_dir.feature} "
            f"({model_dir.dataset}), singers {', '.join(model_dir.singers)}, "
            f"{len(model_dir.dictionaries)} motifs"
        )
    results, errors = [], []
    # Time left over several recordings: plain lines with --verbose; a line
    # redrawn on a terminal's stderr when stdout goes elsewhere (a file, a pipe).
    progress = Progress(
        len(args.paths),
        "identify",
        unit="recordings",
        log=log if len(args.paths) > 1 else None,
        stream=None if args.quiet or sys.stdout.isatty() else terminal(),
        interval_s=0,
    )
    for path in args.paths:
        try:
            result = identify_recording(
                path, model_dir, log=log, top_motifs=args.top, device=args.device
            )
        except ValueError as err:
            print(f"cantaor identify: error: {err}", file=sys.stderr)
            errors.append({"path": str(path), "error": str(err)})
            continue
        finally:
            progress.update()
        results.append(result)
        if not args.json:
            print(format_identification(result, brief=args.quiet), flush=True)
            if not args.quiet and len(args.paths) > 1:
                print()
    progress.close()
    if args.json:
        document = {
            "model_dir": str(model_dir.path),
            "model": {
                "name": model_dir.model_name,
                "dataset": model_dir.dataset,
                "feature": model_dir.feature,
                "singers": model_dir.singers,
                "format_version": model_dir.manifest["format_version"],
            },
            "recordings": results,
            "errors": errors,
        }
        sys.stdout.write(json.dumps(document, indent=2, allow_nan=False) + "\n")
    if not args.quiet and not args.json and errors:
        print(f"{len(errors)} of {len(args.paths)} recordings failed", file=sys.stderr)
    return EXIT_BAD_INPUT if errors else EXIT_OK


def _export_model(args: argparse.Namespace) -> int:
    from pathlib import Path

    import yaml

    from cantaor.identify.modeldir import ModelDirError, check_not_newer, export_model_dir
    from cantaor.training.loop import load_model
    from cantaor.util.names import singer_path_name

    results = Path(args.results)
    if not results.is_dir():
        raise ModelDirError(f"{results}: results directory not found")
    config = None
    if args.config is not None:
        config_path = Path(args.config)
        try:
            config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
            raise ModelDirError(f"{config_path}: cannot read configuration ({err})") from err
        if not isinstance(config, dict):
            raise ModelDirError(f"{config_path}: configuration is not a mapping")
    # The workflow's layout: results/models/<dataset>/<split>/<feature>/<model>/.
    run = results / "models" / args.dataset / args.split / args.feature / args.model
    model_path = run / "model.pt"
    if not model_path.is_file():
        splits = sorted(
            path.parent.parent.name
            for path in (results / "models" / args.dataset).glob(f"*/{args.feature}/{args.model}")
        )
        raise ModelDirError(
            f"{model_path}: model file not found (has the workflow run?"
            + (f" splits with this model: {', '.join(splits)})" if splits else ")")
        )
    try:
        _, metadata = load_model(model_path)
    except Exception as err:  # torch raises many types for a bad file
        raise ModelDirError(f"{model_path}: model file does not load ({err})") from err
    clusters_path = results / "contour" / "clusters.json"
    dictionary_paths = {
        singer: results / "motifs" / f"{singer_path_name(singer)}.dictionary.tsv"
        for singer in metadata["classes"]
    }
    check_not_newer(model_path, [clusters_path, *dictionary_paths.values()])
    out = export_model_dir(
        args.output,
        model_path=model_path,
        clusters_path=clusters_path,
        dictionary_paths=dictionary_paths,
        config=config,
        dataset=args.dataset,
        feature=args.feature,
        model_name=args.model,
        # the open-set rule the workflow calibrated for this model, when it did
        rejection_path=run / "rejection.json" if (run / "rejection.json").is_file() else None,
    )
    if not args.quiet:
        print(
            f"wrote {out}: {args.model} on {args.feature} ({args.dataset}, {args.split} split), "
            f"{len(metadata['classes'])} singers",
            file=sys.stderr,
        )
    return EXIT_OK


def _add_identify(commands) -> None:
    identify = commands.add_parser(
        "identify",
        help="identify the singer of recordings with a model directory",
        description="Identify the singer of each recording: pitch, contour and the motifs of "
        "the model directory's dictionaries are found as in training, the model scores every "
        "motif occurrence, and the mean of those probabilities is the recording's. The "
        "answer is 'none of the known singers', with the reason, for a recording with no "
        "sung pitch (silence, noise), too few of the known motifs, or too low a confidence "
        "(thresholds calibrated per model, in the model directory's rejection.json). "
        "Audio: any format libsndfile reads (wav, flac, ogg, mp3), any rate, mono or stereo.",
        epilog="example: cantaor identify take1.flac take2.wav --model-dir models/cantaor "
        "(add --json for machine-readable output; make a model directory with "
        "'cantaor export-model')",
    )
    identify.add_argument("paths", nargs="+", metavar="PATH", help="audio file(s)")
    identify.add_argument(
        "--model-dir", required=True, metavar="DIR", help="model directory (cantaor export-model)"
    )
    identify.add_argument(
        "--json", action="store_true", help="print one JSON document on stdout instead of tables"
    )
    identify.add_argument(
        "--top",
        type=_count_arg,
        default=10,
        metavar="N",
        help="motifs listed per recording (default 10)",
    )
    identify.add_argument(
        "--device",
        choices=("cpu", "cuda", "auto"),
        default="cpu",
        help="where the model runs (default cpu)",
    )
    chatter = identify.add_mutually_exclusive_group()
    chatter.add_argument(
        "-q", "--quiet", action="store_true", help="only the verdict line of each recording"
    )
    chatter.add_argument(
        "-v", "--verbose", action="store_true", help="progress of every step on stderr"
    )
    identify.set_defaults(run=_identify)


def _add_export_model(commands) -> None:
    export = commands.add_parser(
        "export-model",
        help="build a model directory from a finished workflow's results folder",
        description="Copy one trained model "
        "(RESULTS/models/DATASET/SPLIT/FEATURE/MODEL/model.pt), the contour clusters, the "
        "singers' motif dictionaries and the settings they were made with (recorded in the "
        "model file) into a self-describing model directory that 'cantaor identify' reads.",
        epilog="example: cantaor export-model results --dataset motifs --split group "
        "--feature logmel --model residual_blstm -o models/cantaor",
    )
    export.add_argument("results", help="the workflow's results folder")
    export.add_argument("--dataset", default="motifs", help="dataset (default motifs)")
    export.add_argument(
        "--split",
        default="group",
        help="split the model was trained on: group, random or foldIofK (default group)",
    )
    export.add_argument("--feature", default="logmel", help="feature (default logmel)")
    export.add_argument("--model", default="residual_blstm", help="model (default residual_blstm)")
    export.add_argument(
        "--config",
        default=None,
        help="a configuration to check against the settings the model records it was built "
        "with (refused if they differ); needed only for a model trained outside the workflow",
    )
    export.add_argument("-o", "--output", required=True, metavar="DIR", help="model directory")
    export.add_argument("-q", "--quiet", action="store_true", help="print no summary on stderr")
    export.set_defaults(run=_export_model)


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
    _add_identify(commands)
    _add_export_model(commands)
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
