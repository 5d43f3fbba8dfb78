"""Bad settings and damaged checkpoints end as one message naming the key or the file."""

import zipfile

import numpy as np
import pytest
import torch

from bharnet.cli import main
from bharnet.core.errors import UserError
from bharnet.engine.checkpoints import load_checkpoint
from bharnet.engine.config import make_config
from bharnet.engine.fit import fit
from tests.helpers import TINY


@pytest.mark.parametrize(("override", "message"), [
    ("data.modality=bones", r"data.modality: 'bones' is not one of joint, bone, joint_motion, bone_motion"),
    ("optim.schedule=linear", r"optim.schedule: 'linear' is not one of cosine, step"),
    ("data.window=-5", r"data.window: -5, expected a whole number >= 1"),
    ("data.batch_size=abc", r"data.batch_size: 'abc' is not a whole number"),
    ("data.hand_norm=palm", r"data.hand_norm: 'palm' is not one of wrist, sample, none"),
    ("model.name=bodyexpert", r"model.name: 'bodyexpert' is not one of .*body-expert"),
    ("model.backbone=resnet", r"model.backbone: 'resnet' is not one of ctrgcn, degcn, stgcn"),
    ("data.test_crop=1.5", r"data.test_crop: 1.5, expected a fraction in \(0, 1\]"),
])
def test_a_bad_setting_is_named_with_its_allowed_values(override, message):
    with pytest.raises(UserError, match=message):
        make_config(TINY, {"data": {"store": "x"}}, overrides=[override])


def test_a_split_the_store_lacks_is_refused_before_any_work(tiny_config, store, tmp_path):
    cfg = tiny_config(store, tmp_path, data={"train_split": "val"})
    with pytest.raises(UserError, match=r"data.train_split: 'val' is not a split of .*; it has: test, train"):
        fit(cfg, quiet=True)
    assert not (tmp_path / "run" / "checkpoints").exists()


@pytest.fixture(scope="module")
def trained(tiny_config, store, tmp_path_factory):
    return fit(tiny_config(store, tmp_path_factory.mktemp("run"), trainer={"max_epochs": 1}), quiet=True)


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(0).bytes(4096))


def _zip_of_text(path):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")


def _state_dict(path):
    torch.save(torch.nn.Linear(2, 2).state_dict(), path)


def _pickled_model(path):
    torch.save(torch.nn.Linear(2, 2), path)


def _empty(path):
    path.write_bytes(b"")


def _text(path):
    path.write_text("name,label\nclip0,wave\n")


@pytest.mark.parametrize(("write", "found"), [
    (_random_bytes, r"is not a bharnet checkpoint: unknown content \(it starts with the bytes [0-9a-f ]+\), not a "
                    r"PyTorch file"),
    (_zip_of_text, r"is not a bharnet checkpoint: a ZIP archive of 1 file, e.g. notes.txt, not a PyTorch file"),
    (_state_dict, r"is not a bharnet checkpoint: a plain state dict of 2 tensors \(e.g. weight\), without the config"),
    (_pickled_model, r"is not a bharnet checkpoint: a PyTorch file holding Python objects beyond tensors"),
    (_empty, r"is empty \(0 bytes\), not a checkpoint"),
    (_text, r"is not a bharnet checkpoint: a text file \(it starts with 'name,label'\)"),
])
def test_a_file_that_is_not_a_checkpoint_says_what_it_is(write, found, tmp_path):
    write(tmp_path / "x.ckpt")
    with pytest.raises(UserError, match=r"x.ckpt " + found) as info:
        load_checkpoint(tmp_path / "x.ckpt")
    assert "\n" not in str(info.value) and "weights_only" not in str(info.value)  # never advice to load it unsafely


@pytest.mark.integration  # trains
def test_a_folder_given_as_a_checkpoint_says_so_and_names_the_one_inside(trained, tmp_path):
    with pytest.raises(UserError, match=rf"^{trained['run_dir']} is a folder, not a checkpoint file; did you mean "
                                        rf"{trained['run_dir'] / 'checkpoints' / 'best.ckpt'}\?$"):
        load_checkpoint(trained['run_dir'])
    with pytest.raises(UserError, match=r"is a folder, not a checkpoint file \(and holds no .ckpt file\)$"):
        load_checkpoint(tmp_path)


@pytest.mark.integration  # trains
def test_a_truncated_checkpoint_says_so(trained, tmp_path):
    data = trained["last"].read_bytes()
    (tmp_path / "x.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match=r"x.ckpt is not a readable checkpoint \(truncated or damaged: .+\)"):
        load_checkpoint(tmp_path / "x.ckpt")


def test_a_checkpoint_of_another_project_is_refused(tmp_path):
    torch.save({"state_dict": {"net.weight": torch.zeros(2)}, "hyper_parameters": {"lr": 0.1}, "epoch": 3},
               tmp_path / "other.ckpt")
    with pytest.raises(UserError, match=r"other.ckpt is not a bharnet checkpoint \(no config"):
        load_checkpoint(tmp_path / "other.ckpt")


@pytest.mark.parametrize("command", [["test"], ["export", "--onnx", "{tmp}/m.onnx"], ["predict", "{tmp}/v.mp4"],
                                     ["live", "--source", "{tmp}/v.mp4", "--no-display"]])
def test_every_command_reads_checkpoints_alike(command, tmp_path, capsys):
    _random_bytes(tmp_path / "x.ckpt")
    (tmp_path / "v.mp4").write_bytes(b"")
    argv = [command[0], str(tmp_path / "x.ckpt"), *(a.format(tmp=tmp_path) for a in command[1:])]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{tmp_path / 'x.ckpt'} is not a bharnet checkpoint: unknown content" in err


@pytest.mark.integration  # trains
def test_weights_that_do_not_fit_the_saved_config_are_one_line(trained, tmp_path):
    ckpt = torch.load(trained["last"], weights_only=True)
    ckpt["hyper_parameters"]["config"]["model"]["base_channels"] = 16
    torch.save(ckpt, tmp_path / "edited.ckpt")
    with pytest.raises(UserError, match=r"edited.ckpt: its weights do not fit the model its config describes "
                                        r"\(\d+ of \d+ tensors differ, e.g. model\.") as info:
        load_checkpoint(tmp_path / "edited.ckpt")
    assert "\n" not in str(info.value)


@pytest.mark.integration  # trains
def test_training_on_a_truncated_last_checkpoint_says_how_to_start_afresh(tiny_config, store, tmp_path):
    cfg = tiny_config(store, tmp_path, trainer={"max_epochs": 1})
    last = fit(cfg, quiet=True)["last"]
    last.write_bytes(last.read_bytes()[:1000])
    with pytest.raises(UserError, match=r"last.ckpt .*--no-resume"):
        fit(tiny_config(store, tmp_path, trainer={"max_epochs": 2}), quiet=True)
