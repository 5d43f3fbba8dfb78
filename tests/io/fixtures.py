"""Writers of small data sets in each real format, for tests (here and elsewhere): each writes a
folder and returns what it wrote so that a test can compare a prepared store with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

UCLA_ACTIONS = ["a01", "a02", "a03", "a04", "a05", "a06", "a08", "a09", "a11", "a12"]


def write_ucla(folder: Path, num_clips: int = 6, frames: int = 12, seed: int = 0) -> dict[str, dict]:
    """N-UCLA JSON clips (``aNN_sNN_eNN_vNN.json``), views cycling 1, 2, 3; returns ``{name: record}``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for i in range(num_clips):
        label = i % len(UCLA_ACTIONS) + 1
        name = f"{UCLA_ACTIONS[label - 1]}_s{i // 3 + 1:02d}_e00_v{i % 3 + 1:02d}"
        skeleton = np.round(rng.normal(size=(frames + i, 20, 3)), 6)
        record = {"file_name": name, "skeletons": skeleton.tolist(), "label": label}
        (folder / f"{name}.json").write_text(json.dumps(record))
        written[name] = record
    return written


# ---------------------------------------------------------------------------------------------
# NTU RGB+D .skeleton text files


def ntu_body(rng: np.random.Generator, frames: int, x0: float = 0.0, move: float = 0.05) -> np.ndarray:
    """A plausible body track (frames, 25, 12): a person about 1.7 m tall, narrower than tall,
    swaying by ``move`` metres; every one of the 12 joint-line fields filled."""
    base = np.stack([rng.uniform(-0.25, 0.25, 25) + x0, rng.uniform(-0.8, 0.8, 25), rng.uniform(2.5, 3.5, 25)], -1)
    t = np.linspace(0, 2 * np.pi, frames)[:, None, None]
    xyz = base[None] + move * np.sin(t + rng.uniform(0, 6, (1, 25, 3)))
    joint = np.zeros((frames, 25, 12))
    joint[..., 0:3] = xyz
    joint[..., 3:5] = 256 + 100 * xyz[..., 0:2] + rng.normal(size=(frames, 25, 2))
    joint[..., 5:7] = 960 + 500 * xyz[..., 0:2] + rng.normal(size=(frames, 25, 2))
    quat = rng.normal(size=(frames, 25, 4))
    joint[..., 7:11] = quat / np.linalg.norm(quat, axis=-1, keepdims=True)
    joint[..., 11] = rng.integers(0, 3, (frames, 25))
    return np.char.mod("%.7g", joint).astype(float)  # exactly the numbers the text will hold


def ntu_text(frames: list[list[tuple[str, np.ndarray]]], num_frames: int | None = None) -> str:
    """The exact .skeleton text for ``frames``: per frame a list of (body ID, (25, 12) joint fields)."""
    out = [str(len(frames) if num_frames is None else num_frames)]
    for bodies in frames:
        out.append(str(len(bodies)))
        for body_id, joints in bodies:
            out.append(f"{body_id} 0 1 1 1 1 0 0.02764709 0.05745083 2")
            out.append(str(len(joints)))
            out.extend(" ".join(f"{v:.7g}" for v in row) for row in joints)
    return "\r\n".join(out) + "\r\n"  # the Kinect files end lines with CR LF


def ntu_name(setup: int = 1, camera: int = 1, subject: int = 1, replication: int = 1, action: int = 1) -> str:
    return f"S{setup:03d}C{camera:03d}P{subject:03d}R{replication:03d}A{action:03d}"


def write_ntu(folder: Path, num_files: int = 8, frames: int = 40, seed: int = 0,
              two_bodies_every: int = 4) -> dict[str, list[np.ndarray]]:
    """NTU files with varied setups, cameras, subjects and actions; every ``two_bodies_every``-th
    file has a second person. Returns ``{name: [joint fields (T, 25, 12) per body]}``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    written = {}
    for i in range(num_files):
        name = ntu_name(setup=i % 17 + 1, camera=i % 3 + 1, subject=i % 40 + 1, replication=i % 2 + 1,
                        action=i % 60 + 1)
        bodies = [ntu_body(rng, frames, move=0.5)]  # the first body moves most: actor 1
        if two_bodies_every and i % two_bodies_every == two_bodies_every - 1:
            bodies.append(ntu_body(rng, frames, x0=1.0, move=0.02))
        ids = [f"7205759403793{1000 + 7 * i + b}" for b in range(len(bodies))]
        text = ntu_text([[(ids[b], bodies[b][t]) for b in range(len(bodies))] for t in range(frames)])
        (folder / f"{name}.skeleton").write_text(text)
        written[name] = bodies
    return written


def write_ntu_skeleton(path: str | Path, bodies: dict[str, np.ndarray]) -> Path:
    """Write a ``.skeleton`` text file whose bodies ``{bodyID: (T, 25, 2)}`` have these colour
    positions (NaN = absent in that frame); other fields are zeros: the skeletons of the hand and
    ST-ROI tests, which read only where each joint is in the video."""
    n_frames = max(b.shape[0] for b in bodies.values())
    out = [str(n_frames)]
    for t in range(n_frames):
        present = [(bid, b[t]) for bid, b in bodies.items() if t < len(b) and not np.isnan(b[t]).all()]
        out.append(str(len(present)))
        for bid, xy in present:
            out.append(f"{bid} 0 0 0 0 0 0 0 0 2")
            out.append(str(len(xy)))
            out.extend(f"0 0 0 0 0 {x:.4f} {y:.4f} 0 0 0 0 2" for x, y in xy)
    Path(path).write_text("\n".join(out) + "\n")
    return Path(path)


# ---------------------------------------------------------------------------------------------
# PKU-MMD v1


def write_pku(root: Path, videos: tuple[str, ...] = ("0002-L", "0002-M", "0002-R", "0291-L"), frames: int = 90,
              seed: int = 0) -> dict[str, tuple[np.ndarray, list[tuple[int, int, int]]]]:
    """``root/skeleton/<video>.txt`` (150 values per frame), ``root/label/<video>.txt`` and the official
    split files in ``root/split``. Returns ``{video: (frames (T, 2, 25, 3), [(action 1..51, start, end)])}``."""
    rng = np.random.default_rng(seed)
    for sub in ("skeleton", "label", "split"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    written = {}
    for v, video in enumerate(videos):
        data = np.char.mod("%.6f", rng.normal(size=(frames, 2, 25, 3))).astype(float)
        data[: frames // 2, 1] = 0  # the second person only in the second half
        (root / "skeleton" / f"{video}.txt").write_text(
            "\n".join(" ".join(f"{x:.6f}" for x in row) for row in data.reshape(frames, -1)) + "\n")
        segments = [(v % 51 + 1, 5, 30), ((v + 7) % 51 + 1, 40, 70), (51, 75, frames)]
        (root / "label" / f"{video}.txt").write_text("".join(f"{a},{s},{e},1\n" for a, s, e in segments))
        written[video] = (data, segments)
    (root / "split" / "cross-subject.txt").write_text(
        "Training videos: \n0002-L, 0002-M, 0002-R\nValidataion videos: \n0291-L, 0291-M, 0291-R\n")
    return written


# ---------------------------------------------------------------------------------------------
# other toolkits' files


def write_ctrgcn_npz(path: Path, n_train: int = 5, n_test: int = 3, frames: int = 30, classes: int = 60,
                     seed: int = 0, compressed: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A CTR-GCN style ``NTU60_CS.npz``: zero-padded (N, T, 150) and one-hot labels. Returns
    ``{part: (x, labels)}``; sample i of a part has ``frames - i`` real frames."""
    rng = np.random.default_rng(seed)
    out, arrays = {}, {}
    for part, n in (("train", n_train), ("test", n_test)):
        x = np.zeros((n, frames, 150), np.float32)
        for i in range(n):
            x[i, : frames - i] = rng.normal(size=(frames - i, 150))
            if i % 2:
                x[i, : frames - i, 75:] = 0  # one person
        labels = rng.integers(0, classes, n)
        arrays[f"x_{part}"], arrays[f"y_{part}"] = x, np.eye(classes)[labels]
        out[part] = (x, labels)
    path.parent.mkdir(parents=True, exist_ok=True)
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return out


def write_pyskl(path: Path, n: int = 6, frames: int = 20, joints: int = 17, channels: int = 2, seed: int = 0) -> dict:
    """A pyskl annotation pickle (2D COCO-17 by default, with scores); returns the dict written."""
    import pickle

    rng = np.random.default_rng(seed)
    annotations = []
    for i in range(n):
        m = 1 + i % 2
        annotations.append({
            "frame_dir": f"clip{i:03d}", "label": i % 4, "total_frames": frames - i, "img_shape": (480, 640),
            "keypoint": rng.uniform(0, 640, (m, frames - i, joints, channels)).astype(np.float32),
            "keypoint_score": rng.uniform(0, 1, (m, frames - i, joints)).astype(np.float32),
        })
    data = {"split": {"xsub_train": [a["frame_dir"] for a in annotations[: n - 2]],
                      "xsub_val": [a["frame_dir"] for a in annotations[n - 2:]]},
            "annotations": annotations}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(data))
    return data


# ---------------------------------------------------------------------------------------------
# the custom folder format and MediaPipe Holistic vectors


def write_custom(folder: Path, n: int = 6, frames: int = 15, layout_joints: int = 17, persons: int = 1,
                 channels: int = 3, with_hands: bool = True, seed: int = 0) -> dict[str, dict]:
    """``<name>.npy`` / ``<name>.npz`` samples and ``labels.csv`` with named labels and splits."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written, rows = {}, ["name,label,split"]
    for i in range(n):
        name = f"sample{i:02d}"
        record = {"body": rng.normal(size=(frames + i, persons, layout_joints, channels)).astype(np.float32),
                  "label": ["wave", "clap", "point"][i % 3], "split": "train" if i < n - 2 else "test"}
        if i % 2:
            np.save(folder / f"{name}.npy", record["body"])
        else:
            record["body_conf"] = rng.uniform(size=record["body"].shape[:3]).astype(np.float32)
            if with_hands:
                record["hands"] = rng.normal(size=(frames + i, 2, 21, 3)).astype(np.float32)
                record["hand_conf"] = np.ones((frames + i, 2, 21), np.float32)
            np.savez(folder / f"{name}.npz", **{k: v for k, v in record.items() if isinstance(v, np.ndarray)})
        rows.append(f"{name},{record['label']},{record['split']}")
        written[name] = record
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return written


def write_holistic(folder: Path, n: int = 4, frames: int = 12, seed: int = 0) -> dict[str, np.ndarray]:
    """MediaPipe Holistic samples: (T, 1662) .npy files, one (T, 258) file and one per-frame folder."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    written, rows = {}, []
    for i in range(n):
        name = f"clip{i}"
        size = 258 if i == 1 else 1662
        x = rng.uniform(size=(frames, size)).astype(np.float32)
        x[: frames // 3, -63:] = 0  # right hand not detected in the first third
        if i == 2:
            (folder / name).mkdir()
            for t in range(frames):
                np.save(folder / name / f"{t}.npy", x[t])
        else:
            np.save(folder / f"{name}.npy", x)
        rows.append(f"{name},{i % 2}")
        written[name] = x
    (folder / "labels.csv").write_text("\n".join(rows) + "\n")
    return written
