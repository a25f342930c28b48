"""Erasure and the shadow layer: a user's pairs still in flight when they are erased are never committed."""

from __future__ import annotations

from pathlib import Path

from peptalk.shadow.erasure import ShadowUserData
from tests.helpers import wait_for_async
from tests.peptalk.shadow.helpers import collect, fake_router, make_call, make_layer


async def test_pairs_in_flight_at_erasure_are_dropped_and_later_ones_kept(tmp_path: Path) -> None:
    layer = make_layer(tmp_path, ("fake:slow",), router=fake_router(delay_s=0.5), hash_user_ids=True,
                       user_id_salt=b"salt", timeout_s=10.0)
    erasure = ShadowUserData(layer.store, layer.policy, layer)
    await layer.start()
    await collect(layer, make_call("ada"))
    await collect(layer, make_call("grace"))
    await wait_for_async(lambda: layer.queue_depth == 0, what="both candidate calls running")
    assert await erasure.forget_user("ada") == 0  # nothing of ada's is committed yet
    # The candidates finish: grace's pair is written, ada's is dropped.
    await wait_for_async(lambda: layer.dropped.get("forgotten", 0) == 1 and layer.store.count() == 1,
                         what="grace's pair written and ada's dropped")
    await collect(layer, make_call("ada"))  # a request after the erasure is logged as usual
    await layer.aclose()
    stored = [row.user_id for row in layer.store.read()]
    assert sorted(stored) == sorted([layer.policy.stored_user_id("grace"), layer.policy.stored_user_id("ada")])
    assert layer.dropped["forgotten"] == 1
    assert await erasure.forget_user("ada") == 1  # and erasing again removes the later pair
    assert [row.user_id for row in layer.store.read()] == [layer.policy.stored_user_id("grace")]
