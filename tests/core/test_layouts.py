import numpy as np
import pytest

from bharnet.core.layouts import HAND21, HAND25, LAYOUTS, NTU25, get_layout, pad_layout


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=lambda layout: layout.name)
def test_bones_form_a_tree(layout):
    real = [j for j in range(layout.num_joints) if j not in layout.dummy]
    for joint in real:  # every real joint reaches the root without a cycle
        seen, j = set(), joint
        while layout.parents[j] != j:
            assert j not in seen
            seen.add(j)
            j = layout.parents[j]
        assert j == layout.root
    assert len(layout.edges) == len(real) - 1


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=lambda layout: layout.name)
def test_partition_normalised(layout):
    a = layout.partition
    assert a.shape == (3, layout.num_joints, layout.num_joints)
    np.testing.assert_array_equal(a[0], np.eye(layout.num_joints))
    for k in (1, 2):
        sums = a[k].sum(axis=0)
        assert np.allclose(sums[sums > 0], 1.0)
    # inward and outward carry the same edges in opposite directions
    np.testing.assert_array_equal(a[1] > 0, (a[2] > 0).T)


def test_known_layouts():
    assert NTU25.num_joints == 25 and NTU25.joints[NTU25.center] == "spine_mid"
    assert NTU25.joints[NTU25.root] == "spine_shoulder"
    assert HAND21.num_joints == 21 and HAND21.parents[HAND21.index("index_tip")] == HAND21.index("index_dip")
    assert get_layout("coco17").num_joints == 17 and get_layout("pose33").num_joints == 33
    assert get_layout("ucla20").num_joints == 20


def test_hand_padding_adds_isolated_dummies():
    assert HAND25.num_joints == 25 and HAND25.dummy == (21, 22, 23, 24)
    assert HAND25.edges == HAND21.edges
    a = HAND25.partition
    assert a[1:, 21:, :].sum() == 0 and a[1:, :, 21:].sum() == 0
    assert pad_layout(HAND21, 21) is HAND21
    with pytest.raises(ValueError):
        pad_layout(NTU25, 21)


def test_unknown_layout_message():
    with pytest.raises(KeyError, match="known:"):
        get_layout("smpl")
