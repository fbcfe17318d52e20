"""RFC 9162 / RFC 6962 Merkle tree: published test vectors and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.records.audit import merkle

# The certificate-transparency reference corpus (RFC 6962 test vectors).
LEAVES = [bytes.fromhex(h) for h in
          ("", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = {  # (leaf index, tree size) -> audit path
    (0, 1): [],
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
}
CONSISTENCY = {  # (old size, new size) -> proof
    (1, 1): [],
    (1, 8): INCLUSION[(0, 8)],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}
TREE = merkle.MemoryTree(LEAVES)


@pytest.mark.parametrize("size", range(9))
def test_roots_match_rfc6962_vectors(size: int) -> None:
    """MTH of the first ``size`` corpus leaves equals the published root, both ways."""
    assert TREE.root(size).hex() == ROOTS[size]
    assert merkle.root_of([merkle.leaf_hash(x) for x in LEAVES[:size]]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size"), sorted(INCLUSION))
def test_inclusion_proofs_match_vectors(index: int, size: int) -> None:
    proof = TREE.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == INCLUSION[(index, size)]
    assert merkle.verify_inclusion(merkle.leaf_hash(LEAVES[index]), index, size, proof, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new"), sorted(CONSISTENCY))
def test_consistency_proofs_match_vectors(old: int, new: int) -> None:
    proof = TREE.consistency_proof(old, new)
    assert [p.hex() for p in proof] == CONSISTENCY[(old, new)]
    assert merkle.verify_consistency(old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError):
        merkle.inclusion_ranges(8, 8)
    with pytest.raises(ValueError):
        merkle.consistency_ranges(9, 8)
    root = bytes.fromhex(ROOTS[8])
    assert not merkle.verify_inclusion(merkle.leaf_hash(b""), 8, 8, [], root)
    assert not merkle.verify_consistency(0, 8, merkle.EMPTY_ROOT, root, [root])  # empty tree needs an empty proof
    assert not merkle.verify_consistency(4, 8, bytes.fromhex(ROOTS[4]), root, [])


BIG = merkle.MemoryTree(i.to_bytes(4, "big") for i in range(600))


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 600).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_round_trip(case: tuple[int, int]) -> None:
    """Every proof the tree issues verifies, and matches the reference recursion's root."""
    size, index = case
    proof = BIG.inclusion_proof(index, size)
    root = BIG.root(size)
    assert root == merkle.root_of([BIG.node((0, i)) for i in range(size)])
    assert merkle.verify_inclusion(BIG.node((0, index)), index, size, proof, root)
    assert len(proof) <= (size - 1).bit_length()


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 600).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_consistency_round_trip(case: tuple[int, int]) -> None:
    """Every consistency proof verifies; against a different old root it fails."""
    old, new = case
    proof = BIG.consistency_proof(old, new)
    assert merkle.verify_consistency(old, new, BIG.root(old), BIG.root(new), proof)
    if 0 < old < new:
        assert not merkle.verify_consistency(old, new, merkle.leaf_hash(b"forged"), BIG.root(new), proof)


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 200).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1), st.data())))
def test_tampered_inclusion_proof_fails(case) -> None:
    """Flipping one byte of any proof element, or the leaf, breaks verification."""
    size, index, data = case
    proof = BIG.inclusion_proof(index, size)
    root = BIG.root(size)
    leaf = BIG.node((0, index))
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = list(proof)
        bad[k] = bytes([bad[k][0] ^ 1]) + bad[k][1:]
        assert not merkle.verify_inclusion(leaf, index, size, bad, root)
        assert not merkle.verify_inclusion(leaf, index, size, proof[:-1], root)
    assert not merkle.verify_inclusion(merkle.leaf_hash(b"x"), index, size, proof, root)
