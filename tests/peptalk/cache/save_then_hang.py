"""Child process for the crash test: saves one generation, then hangs half-way through saving the next.

    python -m tests.peptalk.cache.save_then_hang <folder>
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from peptalk.cache import snapshot
from tests.peptalk.cache.test_semantic_cache import BASE, make_cache, put


def hang_after_the_index(path: Path, data: bytes) -> None:
    real_write(path, data)
    if path.name == snapshot.INDEX_FILE:
        print("MID-SAVE", flush=True)
        time.sleep(600)


async def main(folder: Path) -> None:
    cache = make_cache(folder)
    await put(cache, BASE, "first generation")
    print("SAVED", await cache.save(), flush=True)
    for n in range(5):
        await put(cache, BASE | {"user_id": f"later{n}"}, "second generation")
    snapshot._write_file = hang_after_the_index
    await cache.save()


real_write = snapshot._write_file

if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
