"""The embedded default dataset: animated human figures, written in the exact UCF101 and HMDB51 layouts.

Real UCF101/HMDB51 and pretrained weights cannot be downloaded everywhere, so the series runs out of the box on this
dataset, whose ground truth we control. Stick figures (:mod:`.stick_figures`, drawn by :mod:`.synthetic_render`)
perform actions; some pairs differ only in temporal order (sit down / stand up, raise / lower arms) or direction (walk
left / right), so the dataset shows which models use time. Appearance (colours, proportions, thickness, scale,
position, textured background, lighting, camera jitter, noise) is drawn independently of the class and shared within a
group, as UCF101's groups share an actor and a scene; motion speed, phase and clip length vary per clip. Beside each
video the generator writes where the actor and its moving limbs are in every frame (:mod:`.actor_masks`), to score
explanations.

Layouts, read unchanged by :class:`~harutils.data.ucf101.UCF101` and :class:`~harutils.data.hmdb51.HMDB51`:

- ``ucf101``: ``UCF-101/<Class>/v_<Class>_gNN_cNN.avi`` (XviD, 320x240, 25 fps) and ``ucfTrainTestlist/``
  (classInd, trainlist0N with labels, testlist0N; CRLF). Split N tests a different block of groups.
- ``hmdb51``: ``<class>/<source>_<class>_<tags>_<n>.avi`` (XviD, height 240, widths 320/352/424, 30 fps) and
  ``testTrainMulti_7030_splits/<class>_test_split<N>.txt`` (flag 1 train, 2 test).

Command line::

    python -m harutils.data.synthetic --layout ucf101 --out data/synthetic/ucf101 [--seed 0] [--groups 8]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from . import stick_figures
from .actor_masks import write_masks
from .encode import write_video
from .parallel import map_with_progress
from .synthetic_render import HEIGHT, ClipSpec, Scene, render_clip, render_clip_and_masks
from .synthetic_splits import write_hmdb51_splits, write_ucf101_splits

UCF_CLASSES = ["Wave", "Clap", "JumpingJack", "Squat", "Punch", "Kick", "Bend", "Jump", "WalkLeft", "WalkRight",
               "SitDown", "StandUp", "RaiseArms", "LowerArms"]
HMDB_CLASSES = ["wave", "clap", "punch", "kick", "jump", "walk_left", "walk_right", "sit_down", "stand_up", "march",
                "box", "swing_arms"]
LAYOUTS = {"ucf101": {"fps": 25, "widths": (320,), "classes": UCF_CLASSES},
           "hmdb51": {"fps": 30, "widths": (320, 352, 424), "classes": HMDB_CLASSES}}
FORMAT_VERSION = 3  # 3: actor masks beside the videos (the videos are unchanged)


def action_of(class_name: str) -> str:
    """``WalkLeft`` / ``walk_left`` -> ``walk_left``."""
    snake = "".join("_" + c.lower() if c.isupper() else c for c in class_name).lstrip("_")
    if snake not in stick_figures.ACTIONS:
        raise KeyError(f"class {class_name!r} has no action ({snake!r}); known: {sorted(stick_figures.ACTIONS)}")
    return snake


def random_scene(rng: np.random.Generator, width: int) -> Scene:
    scale = rng.uniform(0.6, 0.85) * HEIGHT
    return Scene(body=stick_figures.random_body(rng), width=width, scale=scale, x=rng.uniform(0.35, 0.65) * width,
                 ground=rng.uniform(0.88, 0.97) * HEIGHT, light=rng.uniform(0.75, 1.15), noise=rng.uniform(2, 8),
                 jitter=rng.uniform(0, 3), texture_seed=int(rng.integers(2**31)))


def clip_spec(layout: str, class_name: str, scene: Scene, seed: int, group: int, clip: int,
              frames: tuple[int, int]) -> ClipSpec:
    """The per-clip draws: motion speed, phase, span, length, small position change; seeded by identity."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, _stable(layout), _stable(class_name), group, clip]))
    action = action_of(class_name)
    motion = stick_figures.Motion(cycles=rng.uniform(1.2, 2.5), phase=rng.uniform(0, 2 * math.pi),
                      start=rng.uniform(0, 0.15), end=rng.uniform(0.85, 1.0), walk_speed=rng.uniform(0.35, 0.6))
    if action in stick_figures.ONE_WAY and rng.random() < 0.5:
        motion = stick_figures.Motion(motion.cycles, motion.phase, 1 - motion.end, 1 - motion.start, motion.walk_speed)
    return ClipSpec(action, scene, motion, int(rng.integers(frames[0], frames[1] + 1)),
                    (rng.normal(0, 0.03) * scene.width, rng.normal(0, 0.01) * HEIGHT), int(rng.integers(2**31)))


def _stable(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:8], 16)


def group_scene(layout: str, seed: int, group: int) -> Scene:
    """One scene per group and layout, independent of the class (the class never sees appearance)."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, _stable(layout), group, 7]))
    width = int(rng.choice(LAYOUTS[layout]["widths"]))
    return random_scene(rng, width)


@dataclass(frozen=True)
class SyntheticConfig:
    """The parameters of a generated dataset (written beside it as ``synthetic.json``)."""

    layout: str
    seed: int = 0
    classes: tuple[str, ...] = ()
    groups: int = 8
    clips_per_group: int = 3
    frames: tuple[int, int] = (32, 48)
    version: int = FORMAT_VERSION


def _file_name(layout: str, class_name: str, group: int, clip: int, scene: Scene) -> str:
    if layout == "ucf101":
        return f"{class_name}/v_{class_name}_g{group:02d}_c{clip:02d}.avi"
    quality = "goo" if scene.noise < 4 else ("med" if scene.noise < 6.5 else "bad")
    camera = "cm" if scene.jitter > 1.5 else "nm"
    return f"{class_name}/Actor{group:02d}_scene_{class_name}_f_{camera}_np1_fr_{quality}_{clip - 1}.avi"


def _job(args) -> str:
    path, spec, fps, masks = args
    if not masks:
        write_video(path, render_clip(spec), fps=fps)
        return str(path)
    frames, actor, moving = render_clip_and_masks(spec)
    write_video(path, frames, fps=fps)
    write_masks(path, actor, moving)
    return str(path)


def generate(layout: str, out: str | Path, seed: int = 0, classes=None, groups: int = 8, clips_per_group: int = 3,
             frames: tuple[int, int] = (32, 48), workers: int | None = None, progress: bool = True,
             masks: bool = True) -> Path:
    """Write a synthetic dataset in the layout of UCF101 or HMDB51.

    Args:
        layout: "ucf101" or "hmdb51".
        out: the dataset root (created; an existing generated dataset there is replaced).
        seed: the same seed gives the same decoded frames.
        classes: class names of the layout (default: all of them).
        groups: groups (actors and scenes) per class; at least 4 so each split has train, val and test groups.
        clips_per_group: clips per group and class.
        frames: range of clip lengths.
        workers: processes (default: all cores).
        progress: a progress bar.
        masks: write each video's actor and moving-limb masks beside it (:mod:`.actor_masks`); the videos are the
            same bytes either way.

    Returns:
        The root, ready for ``UCF101(root)`` or ``HMDB51(root)``.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be 'ucf101' or 'hmdb51', got {layout!r}")
    known = LAYOUTS[layout]["classes"]
    classes = list(classes) if classes else list(known)
    unknown = [c for c in classes if c not in known]
    if unknown:
        raise ValueError(f"unknown {layout} classes {unknown}; known: {known}")
    if groups < 4:
        raise ValueError(f"groups must be at least 4 (train, validation and test groups per split), got {groups}")
    out = Path(out)
    if out.exists():
        if not (out / "synthetic.json").is_file():
            raise FileExistsError(f"{out} exists and is not a generated synthetic dataset; choose another --out")
        shutil.rmtree(out)
    video_root = out / "UCF-101" if layout == "ucf101" else out
    fps = LAYOUTS[layout]["fps"]
    scenes = {g: group_scene(layout, seed, g) for g in range(1, groups + 1)}
    jobs, names = [], {}
    for cls in classes:
        for g in range(1, groups + 1):
            for c in range(1, clips_per_group + 1):
                rel = _file_name(layout, cls, g, c, scenes[g])
                names[(cls, g, c)] = rel
                jobs.append((video_root / rel, clip_spec(layout, cls, scenes[g], seed, g, c, frames), fps, masks))
    for _ in map_with_progress(_job, jobs, workers, f"generating synthetic {layout}", progress):
        pass
    if layout == "ucf101":
        write_ucf101_splits(out, classes, groups, clips_per_group, names)
    else:
        write_hmdb51_splits(out, classes, groups, clips_per_group, names)
    config = SyntheticConfig(layout, seed, tuple(classes), groups, clips_per_group, tuple(frames))
    (out / "synthetic.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
    return out


# many scenes, one clip each: more actors and backgrounds seen in the same training steps, and more of them tested
DEFAULTS = {"ucf101": {"groups": 80, "clips_per_group": 1, "frames": (32, 48)},
            "hmdb51": {"groups": 64, "clips_per_group": 1, "frames": (32, 48)}}


def ensure_default(layout: str, data_dir: str | Path = "data", seed: int = 0, progress: bool = True) -> Path:
    """The default synthetic dataset of a layout under ``data_dir/synthetic/<layout>``, generated on first use.

    A dataset generated with other parameters or by an older generator is regenerated.
    """
    root = Path(data_dir) / "synthetic" / layout
    want = asdict(SyntheticConfig(layout, seed, tuple(LAYOUTS[layout]["classes"]), **DEFAULTS[layout]))
    want["frames"] = tuple(want["frames"])
    meta = root / "synthetic.json"
    if meta.is_file():
        have = json.loads(meta.read_text())
        have["classes"], have["frames"] = tuple(have["classes"]), tuple(have["frames"])
        if have == want:
            return root
    return generate(layout, root, seed=seed, progress=progress, **DEFAULTS[layout])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harutils.data.synthetic", description=__doc__.split("\n")[0])
    parser.add_argument("--layout", choices=sorted(LAYOUTS), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--classes", nargs="+", default=None)
    parser.add_argument("--groups", type=int, default=8)
    parser.add_argument("--clips-per-group", type=int, default=3)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    print("wrote a synthetic dataset to", generate(args.layout, args.out, args.seed, args.classes, args.groups,
                                                   args.clips_per_group, workers=args.workers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
