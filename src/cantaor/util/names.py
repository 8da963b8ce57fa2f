"""File names for labels that are text: a singer's label becomes a safe name.

Kept apart from :mod:`cantaor.dataset.samplesheet` (which needs jsonschema) so that
every rule's environment can name a singer's files.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_PATH_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def singer_path_name(label: str) -> str:
    """The name a singer's files carry (``results/motifs/{name}.dictionary.tsv``).

    A label of letters, digits, ``_ . -`` (starting with a letter or digit) is
    its own name; any other is transliterated to ASCII, its other characters
    replaced by ``_``, and a short hash of the label appended, so that two
    labels never share a name.

    >>> singer_path_name("S1")
    'S1'
    >>> singer_path_name("José Mercé")
    'Jose_Merce-3de1e6'
    """
    label = unicodedata.normalize("NFC", str(label))
    if _PATH_SAFE.match(label):
        return label
    ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", ascii_text).strip("_.-") or "singer"
    digest = hashlib.blake2b(label.encode("utf-8"), digest_size=3).hexdigest()
    return f"{slug}-{digest}"
