import numpy as np
import pytest
import torch

from bharnet.core.errors import UserError
from bharnet.eval.perturb import (
    Perturbation,
    Perturber,
    add_noise,
    apply_perturbations,
    drop_frames,
    drop_hands,
    format_perturbations,
    parse_perturbations,
)


def make_batch(n=3, t=8, with_mask=True):
    g = torch.Generator().manual_seed(0)
    body = torch.randn(n, 3, t, 25, 2, generator=g)
    body[:, :, :, :, 1] = 0  # the second person is absent
    hand = torch.randn(n, 3, t, 25, 2, generator=g)
    hand[:, :, :, 21:] = 0  # dummy joints
    batch = {"body": body, "hand": hand, "label": torch.arange(n)}
    if with_mask:
        mask = torch.ones(n, 1, t, 25, 2)
        mask[:, :, :, 21:] = 0
        mask[0, :, 2, :, 0] = 0  # a missing left hand
        hand[0, :, 2, :, 0] = 0
        batch["hand_mask"] = mask
    return batch


def test_parse_and_format():
    assert parse_perturbations("noise=0.01, drop-frames=0.2") == [Perturbation("noise", 0.01),
                                                                   Perturbation("drop-frames", 0.2)]
    assert parse_perturbations("none") == [] and parse_perturbations("") == []
    assert format_perturbations(parse_perturbations("drop-hands=0.5")) == "drop-hands=0.5"
    for bad, msg in (("blur=1", "unknown kind"), ("noise", "KIND=STRENGTH"), ("drop-frames=1.5", r"\[0, 1\]"),
                     ("noise=-1", ">= 0"), ("noise=1e", "not a number")):
        with pytest.raises(UserError, match=msg):
            parse_perturbations(bad)


@pytest.mark.parametrize("spec", ["noise=0", "drop-frames=0", "drop-hands=0", "noise=0,drop-frames=0,drop-hands=0"])
def test_strength_zero_is_the_identity(spec):
    batch = make_batch()
    out = apply_perturbations(batch, spec, 0)
    assert set(out) == set(batch)
    for key, value in batch.items():
        assert torch.equal(out[key], value)


@pytest.mark.parametrize("spec", ["noise=0.1", "drop-frames=0.4", "drop-hands=0.4", "noise=0.05,drop-hands=0.3"])
def test_shapes_kept_inputs_untouched_and_deterministic(spec):
    batch = make_batch()
    before = {k: v.clone() for k, v in batch.items()}
    a = apply_perturbations(batch, spec, 7)
    b = apply_perturbations(batch, spec, 7)
    c = apply_perturbations(batch, spec, 8)
    for key in batch:
        assert a[key].shape == batch[key].shape
        assert torch.equal(batch[key], before[key])  # pure: the input is not modified
        assert torch.equal(a[key], b[key])
    assert torch.equal(a["label"], batch["label"])
    assert any(not torch.equal(a[k], c[k]) for k in ("body", "hand"))


def test_noise_spares_absent_keypoints():
    batch = make_batch()
    out = add_noise(batch, 0.5, torch.Generator().manual_seed(0))
    assert torch.equal(out["body"][..., 1], batch["body"][..., 1])  # absent person
    assert torch.equal(out["hand"][:, :, :, 21:], batch["hand"][:, :, :, 21:])  # dummy joints
    assert torch.equal(out["hand"][0, :, 2, :, 0], batch["hand"][0, :, 2, :, 0])  # masked hand
    diff = out["body"][..., 0] - batch["body"][..., 0]
    assert 0.4 < diff.std().item() < 0.6


def _source_frames(x: torch.Tensor, y: torch.Tensor, i: int) -> list[int]:
    """For each output frame of sample i, the input frame it equals."""
    return [next(s for s in range(x.shape[2]) if torch.equal(y[i, :, t], x[i, :, s])) for t in range(x.shape[2])]


def test_drop_frames_holds_the_previous_kept_frame():
    batch = make_batch(n=4, t=30)
    out = drop_frames(batch, 0.5, torch.Generator().manual_seed(1))
    for i in range(4):
        src = _source_frames(batch["body"], out["body"], i)
        assert src == _source_frames(batch["hand"], out["hand"], i)  # body and hands lose the same frames
        kept = sorted(set(src))
        assert len(kept) < 30, "p=0.5 over 30 frames drops some"
        assert src == sorted(src)  # time never runs backwards
        for t, s in enumerate(src):  # a frame shows itself or the last kept frame before it
            assert s == max([k for k in kept if k <= t], default=kept[0])
        assert torch.equal(out["hand_mask"][i], batch["hand_mask"][i][:, src])


def test_drop_frames_zero_fill_and_all_dropped():
    batch = make_batch(n=2, t=5)
    out = drop_frames(batch, 1.0, torch.Generator().manual_seed(0))
    # everything dropped: a sample keeps its first frame and shows it everywhere
    assert torch.equal(out["body"], batch["body"][:, :, :1].expand_as(batch["body"]))
    zero = drop_frames(batch, 0.5, torch.Generator().manual_seed(0), fill="zero")
    frames = zero["body"].abs().sum(dim=(1, 3, 4))
    assert (frames == 0).any() and (frames > 0).any()
    assert torch.equal((zero["hand_mask"].sum(dim=(1, 3, 4)) == 0), (zero["hand"].abs().sum(dim=(1, 3, 4)) == 0))


def test_drop_hands_zeroes_hands_and_their_mask():
    batch = make_batch(n=4, t=20, with_mask=False)
    out = drop_hands(batch, 0.5, torch.Generator().manual_seed(0))
    dropped = out["hand_mask"][:, 0, :, 0, :] == 0  # (N, T, hand)
    assert 0.3 < dropped.float().mean() < 0.7
    hands = out["hand"].permute(0, 2, 4, 1, 3).reshape(4, 20, 2, -1)
    assert torch.all(hands[dropped] == 0)
    assert torch.equal(out["hand"][~dropped.view(4, 1, 20, 1, 2).expand_as(out["hand"])],
                       batch["hand"][~dropped.view(4, 1, 20, 1, 2).expand_as(out["hand"])])
    assert torch.equal(out["body"], batch["body"])


def test_numpy_batches_and_the_stateful_perturber():
    batch = {k: v.numpy() for k, v in make_batch(with_mask=False).items()}
    out = apply_perturbations(batch, "drop-hands=0.5", 3)
    assert isinstance(out["hand"], np.ndarray) and isinstance(out["hand_mask"], np.ndarray)
    p1, p2 = Perturber("noise=0.1", seed=5), Perturber("noise=0.1", seed=5)
    tb = make_batch()
    first = [p1(tb)["body"] for _ in range(2)]
    second = [p2(tb)["body"] for _ in range(2)]
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
    assert not torch.equal(first[0], first[1])  # the generator moves on between batches
    assert str(p1) == "noise=0.1" and bool(p1) and not Perturber("noise=0")
