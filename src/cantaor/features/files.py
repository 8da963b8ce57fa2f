"""The feature stage from settings and files.

Three tiers: the array functions of :mod:`cantaor.features.acoustic`; the
store builders of :mod:`cantaor.features.store`, whose keyword parameters are
named after the ``features`` settings so that
:meth:`cantaor.config.settings.Settings.arguments_of` passes every one
(:func:`store_of_items`, the call the workflow and ``cantaor identify``
share); and one file-to-file function per workflow rule
(:func:`feature_store_to_file`, :func:`clip_store_to_file`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import pandas as pd

from cantaor.config.settings import FeaturesSettings, Settings
from cantaor.features.store import build_clip_store, build_store


def _features(settings) -> Settings:
    return settings if isinstance(settings, Settings) else FeaturesSettings.from_config(settings)


def store_of_items(
    items: pd.DataFrame,
    audio_paths: Mapping[str, str | os.PathLike],
    *,
    tensor_path: str | os.PathLike,
    index_path: str | os.PathLike,
    kind: str,
    settings,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """:func:`cantaor.features.store.build_store` under the ``features`` settings.

    Every setting ``build_store`` takes is passed from ``settings``
    (:class:`cantaor.config.settings.FeaturesSettings` or a mapping); one a
    rule did not pass fails here, naming it.
    """
    settings = _features(settings)
    return build_store(
        items,
        audio_paths,
        tensor_path=tensor_path,
        index_path=index_path,
        kind=kind,
        log=log,
        **settings.arguments_of(build_store),
    )


def feature_store_to_file(
    item_path: str | os.PathLike,
    tensor_path: str | os.PathLike,
    index_path: str | os.PathLike,
    *,
    audio_paths: Mapping[str, str | os.PathLike],
    kind: str,
    settings,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """The ``feature_store`` rule: one feature of every item of a dataset, stored."""
    settings = _features(settings)
    items = pd.read_parquet(item_path)
    log(f"{len(items)} items, {kind}, {settings.n_frames} frames, {settings.dtype}")
    index = store_of_items(
        items,
        audio_paths,
        tensor_path=tensor_path,
        index_path=index_path,
        kind=kind,
        settings=settings,
        log=log,
    )
    log("done")
    return index


def clip_store_to_file(
    item_path: str | os.PathLike,
    tensor_path: str | os.PathLike,
    index_path: str | os.PathLike,
    *,
    kind: str,
    settings,
    log: Callable[[str], None] = print,
) -> pd.DataFrame:
    """The ``clip_store`` rule: one feature of every pre-cut clip, stored."""
    settings = _features(settings)
    items = pd.read_parquet(item_path)
    log(f"{len(items)} clips, {kind}, {settings.n_frames} frames, {settings.dtype}")
    index = build_clip_store(
        items,
        tensor_path=tensor_path,
        index_path=index_path,
        kind=kind,
        log=log,
        **settings.arguments_of(build_clip_store),
    )
    log("done")
    return index
