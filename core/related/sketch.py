"""A concern's text as a few numbers to look up: MinHash values of its bigrams, each one key of the index.

A MinHash value is the smallest hash of a set under one hash function, so two texts share it with probability
equal to the Jaccard similarity of their bigram sets. With one value per band (no rows ANDed together) a concern
that shares a fifth of its bigrams with a new one shares about a fifth of its `BANDS` keys: enough to be found
even when residents write the same matter in different words. Ranking candidates by how many keys they share, and
reading only each key's newest concerns, keeps a lookup to `BANDS` short index ranges however many concerns a
community has. datasketch computes the values (`affine32` permutations from a fixed seed, so every process and
every release computes the same keys), over CRC-32 of each shingle: stable too, and a tenth of SHA-1's cost on the
busiest write)."""

from __future__ import annotations

import functools
import zlib

from datasketch import MinHash

BANDS = 24
_SEED = 20261202
_CONCEPT_BAND = 255  # the band of the concept keys: one per object of community life the text names


@functools.cache
def _base() -> MinHash:
    return MinHash(num_perm=BANDS, seed=_SEED, hashfunc=zlib.crc32)


def keys(shingles: frozenset[str], objects: frozenset[str] = frozenset()) -> list[int]:
    """The index keys of a text: for each band, the band number in the high bits and the MinHash value of the
    shingles in the low 32 (the same value in two bands is two keys); then one key per concept it names
    (core.related.concepts), so "没有暖气" finds "供热接不进来" though they share no characters."""
    found = [(_CONCEPT_BAND << 32) | zlib.crc32(concept.encode()) for concept in sorted(objects)]
    if not shingles:
        return found
    base = _base()
    sketch = MinHash(num_perm=BANDS, permutations=base.permutations, scheme=base.scheme, hashfunc=zlib.crc32)
    sketch.update_batch([s.encode() for s in sorted(shingles)])
    return [(band << 32) | int(value) for band, value in enumerate(sketch.hashvalues)] + found
