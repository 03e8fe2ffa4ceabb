"""Run with --novakeys-seed 42 (compat/pytest/run.sh does): the seed reaches the server, and
every test's reset rewinds it, so both tests get the same generated key pair."""

import pytest

SEEN = []


def generate(novakeys):
    assert novakeys.clock()["seed"] == 42, "run these tests with --novakeys-seed 42"
    kp = novakeys.connect("demo").compute.create_keypair(name="same")
    return kp.fingerprint, kp.private_key


@pytest.mark.parametrize("round", [1, 2])
def test_same_key_after_every_reset(novakeys, round):
    SEEN.append(generate(novakeys))
    assert len(SEEN) == round
    assert SEEN[-1] == SEEN[0]
