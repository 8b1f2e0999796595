"""The full profile's frame store on the real fixture clips: the candidates, the storage, and what one DataLoader
worker delivers per model from the video store versus from the original videos.

1. Candidates (every fixture clip, every frame, at the source resolution): bytes per frame, decoding time per frame
   and fidelity (PSNR against the original's frames) of the originals, the video store's short-GOP H.264 (at the
   source resolution, and at 128 px for C3D, against the original resized to 128 px) and JPEG frames per video
   (MMAction2's rawframes) at two qualities.
2. Storage for UCF101 + HMDB51, extrapolated: bytes per frame x the fixtures' mean frames per video x the official
   video counts; and the build time per video on one core.
3. Per model and recipe: training items per second of one worker (``dataset[i]`` of the train and validation
   sets, the whole decode-resize-crop-normalise path, after one untimed pass), reading the video store and reading
   the originals (with exact seeks where the file allows them: most UCF101 clips, no HMDB51 clip), the
   speed-up, and the projected rate of 15 workers beside the GPU's measured training rate
   (``models_cuda.json``, bf16, batch 8).

    .venv/bin/python benchmarks/bench_frame_store.py [--repeats 2] [--out benchmarks/results/frame_store_cpu.json]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torchvision.io import decode_jpeg, encode_jpeg

from harutils import experiment, results
from harutils.config import make_config
from harutils.data import pipeline
from harutils.data.base import MissingVideosWarning
from harutils.data.resize import resize_frames
from harutils.data.video import probe, read_frames
from harutils.data.video_store import VideoStore
from harutils.models import MODEL_NAMES

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
OFFICIAL_VIDEOS = {"ucf101": 13320, "hmdb51": 6766}
WORKERS = 15


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean())
    return 10 * np.log10(255**2 / mse) if mse else float("inf")


STORE_256 = "video store (H.264, GOP 16, CRF 18)"
STORE_128 = "video store at 128 px (C3D's)"
STORE_AS_BUILT = "video store as built (originals kept where they serve)"


def _time_store(clip: Path, n: int, store: VideoStore, reference: np.ndarray, row: list) -> float:
    """Build one store entry (seconds returned) and add its bytes, decoding time and PSNR to ``row``."""
    start = time.perf_counter()
    info = store.load(clip)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    stored = read_frames(store.entry_path(clip), np.arange(n), backend="pyav", info=info).numpy()
    row[1] += time.perf_counter() - start
    row[0] += store.entry_path(clip).stat().st_size
    row[2].append(psnr(reference[:, :stored.shape[1], :stored.shape[2]], stored))
    return build_s


def candidates(clips: list[Path], store: VideoStore, small_store: VideoStore, as_built: VideoStore) -> dict:
    """Bytes, decoding ms and PSNR per frame of each candidate (the 128 px store against the original resized
    to 128 px), the stores' build seconds per video, and the bytes per frame of the 256 px store as the full
    profile builds it (``as_built``: the originals that serve as they are kept, not copied)."""
    rows = {"original videos": [0, 0.0, []], STORE_256: [0, 0.0, []], STORE_128: [0, 0.0, []],
            "JPEG q90 per frame": [0, 0.0, []], "JPEG q75 per frame": [0, 0.0, []]}
    frames_total, build_s = 0, {STORE_256: 0.0, STORE_128: 0.0}
    for clip in clips:
        n = probe(clip).frame_count
        start = time.perf_counter()
        original = read_frames(clip, np.arange(n), backend="pyav").numpy()
        rows["original videos"][1] += time.perf_counter() - start
        rows["original videos"][0] += clip.stat().st_size
        build_s[STORE_256] += _time_store(clip, n, store, original, rows[STORE_256])
        small = resize_frames(torch.from_numpy(original), small_store.max_side).numpy()
        build_s[STORE_128] += _time_store(clip, n, small_store, small, rows[STORE_128])
        for quality in (90, 75):
            row = rows[f"JPEG q{quality} per frame"]
            encoded = [encode_jpeg(torch.from_numpy(f).permute(2, 0, 1).contiguous(), quality=quality)
                       for f in original]  # (H, W, 3) -> (3, H, W)
            row[0] += sum(e.numel() for e in encoded)
            start = time.perf_counter()
            decoded = np.stack([d.permute(1, 2, 0).numpy() for d in decode_jpeg(encoded)])
            row[1] += time.perf_counter() - start
            row[2].append(psnr(original, decoded))
        frames_total += n
    out = {name: {"bytes_per_frame": round(b / frames_total), "decode_ms_per_frame": round(1000 * s / frames_total, 3),
                  "min_psnr_db": round(min(p), 1) if p else None} for name, (b, s, p) in rows.items()}
    report = as_built.build(clips, progress=False)
    out[STORE_AS_BUILT] = {"bytes_per_frame": round(report.disk_bytes / frames_total), "decode_ms_per_frame": None,
                           "min_psnr_db": None, "originals_kept": f"{report.kept} of {len(clips)}"}
    return {"frames": frames_total, "clips": len(clips), "candidates": out,
            "store_build_s_per_video_one_core": {k: round(v / len(clips), 3) for k, v in build_s.items()}}


def storage(clips: dict[str, list[Path]], per_frame: dict) -> dict:
    """GB of UCF101 + HMDB51 per candidate, from the fixtures' mean frames per video and the official counts."""
    frames = {name: OFFICIAL_VIDEOS[name] * float(np.mean([probe(c).frame_count for c in cs]))
              for name, cs in clips.items()}
    gb = {name: round(sum(frames.values()) * row["bytes_per_frame"] / 1e9, 1) for name, row in per_frame.items()}
    gb["the video stores the full profile builds (256 + 128 px)"] = round(gb[STORE_AS_BUILT] + gb[STORE_128], 1)
    return {"estimated_frames": {k: round(v) for k, v in frames.items()}, "gb_ucf101_plus_hmdb51": gb}


def fixtures_present() -> bool:
    """Whether the real fixture clips are there; if not, says where they were looked for."""
    if not FIXTURES.is_dir():
        print(f"no fixture clips under {FIXTURES}: the benchmark reads the real clips of ../shared/fixtures",
              file=sys.stderr)
    return FIXTURES.is_dir()


def training_data(recipe: str, name: str, dataset: str, data_dir: Path, **overrides):
    """A full-profile run's configuration, model card and training + validation clips on the fixture videos of
    ``dataset`` (the missing videos of the complete split files left out quietly)."""
    cfg = make_config(name, dataset, "full", recipe=recipe, data_root=str(FIXTURES / dataset), pretrained=False,
                      device="cpu", data_dir=str(data_dir), **overrides)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", MissingVideosWarning)
        model = experiment.build_run_model(cfg, {dataset: pipeline.class_count(cfg, dataset, False)})
        bundle = pipeline.build_data(cfg, model.card, progress=False)
    return cfg, model.card, torch.utils.data.ConcatDataset([bundle.train, bundle.val])


def items_per_second(dataset, repeats: int) -> float:
    """Steady-state items/s: after one untimed pass, as in every epoch but the first of a persistent worker (the
    first pass also probes each original video once, a whole decode, or reads each stored video's header)."""
    for i in range(len(dataset)):
        dataset[i]
    start = time.perf_counter()
    for _ in range(repeats):
        for i in range(len(dataset)):
            dataset[i]
    return repeats * len(dataset) / (time.perf_counter() - start)


def gpu_rates() -> dict[str, float]:
    """The GPU's measured training clips/s per model (paper size, bf16, batch 8), where recorded."""
    path = results.BENCHMARKS_DIR / "models_cuda.json"
    if not path.is_file():
        return {}
    rows = json.loads(path.read_text())["results"]
    return {r["model"]: r["clips_per_second"] for r in rows if r["size"] == "full" and "bf16" in r["precision"]}


def loading(recipe: str, data_dir: Path, repeats: int) -> dict:
    gpu, out = gpu_rates(), {}
    for name in MODEL_NAMES:
        for dataset in ("ucf101", "hmdb51"):
            row = {}
            for store in ("video", "none"):
                cfg, card, both = training_data(recipe, name, dataset, data_dir, frame_store=store)
                row[f"train_items_per_s_{store}"] = round(items_per_second(both, repeats), 2)
                row.update(frame_size=cfg.frame_size, input=list(card.input_size), videos=len(both))
            row["speedup"] = round(row["train_items_per_s_video"] / row["train_items_per_s_none"], 2)
            row[f"projected_{WORKERS}_workers_per_s"] = round(WORKERS * row["train_items_per_s_video"], 1)
            row["gpu_train_clips_per_s"] = gpu.get(name)
            out[f"{recipe}/{name}/{dataset}"] = row
            print(f"{recipe:9s} {name:12s} {dataset:7s} store {row['train_items_per_s_video']:6.2f}/s  originals "
                  f"{row['train_items_per_s_none']:6.2f}/s  x{row['speedup']:.1f}  ({cfg.frame_size} px)", flush=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--recipes", default="reference,improved")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "frame_store_cpu.json")
    args = parser.parse_args(argv)
    if not fixtures_present():
        return 1
    torch.set_num_threads(1)  # one DataLoader worker
    torch.manual_seed(0)
    clips = {name: sorted((FIXTURES / name).rglob("*.avi")) for name in OFFICIAL_VIDEOS}
    with tempfile.TemporaryDirectory() as tmp:
        store = VideoStore(Path(tmp) / "fixtures", keep_originals=False)  # the copy format itself
        small_store = VideoStore(Path(tmp) / "fixtures_128", max_side=128, keep_originals=False)
        as_built = VideoStore(Path(tmp) / "fixtures_as_built")
        figures = candidates(clips["ucf101"] + clips["hmdb51"], store, small_store, as_built)
        figures["storage"] = storage(clips, figures["candidates"])
        print(json.dumps(figures, indent=1), flush=True)
        figures["training_items_per_second_one_worker"] = {}
        for recipe in args.recipes.split(","):
            figures["training_items_per_second_one_worker"].update(loading(recipe, Path(tmp), args.repeats))
    results.write_benchmark(args.out, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
