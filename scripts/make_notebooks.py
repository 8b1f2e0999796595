"""Write notebooks/NN_*.ipynb (without outputs) from the cell lists below.

The notebooks are the product; this script keeps their shared opening (title, parameters cell, config) alike.
Edit here, run ``python scripts/make_notebooks.py``, commit both.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

PARAMS_COMMON = ('''profile: str = "demo"          # "demo": CPU, synthetic data, small models'''
                 ''' | "full": GPU, real data, paper settings
dataset: str = "ucf101"        # "ucf101" | "hmdb51"
data_root: str = ""            # empty: the synthetic dataset in that layout, generated on first use
split: int = 1                 # official split 1-3
data_dir: str = "../data"      # generated data and frame caches
out_dir: str = "../artifacts"  # checkpoints and metrics JSON''')

PARAMS_TRAIN = PARAMS_COMMON + '''
recipe: str = ""               # full profile: "reference" (the report as published, default) | "improved"
weights_dir: str = ""          # folder of pretrained weight files; "": $HARUTILS_WEIGHTS
epochs: int | None = None      # None: the profile's value
device: str = "auto"           # "auto" | "cpu" | "cuda"
wandb_mode: str = ""           # "online" | "offline" | "disabled"; "": $WANDB_MODE, else "offline"'''


def md(text):
    return new_markdown_cell(text.strip())


def code(text, hide=False):
    cell = new_code_cell(text.strip())
    if hide:
        cell.metadata["tags"] = ["hide-input"]
    return cell


def params(text):
    cell = new_code_cell(text.strip())
    cell.metadata["tags"] = ["parameters"]
    return cell


def model_notebook(number: str, key: str, title: str, module: str, about: str) -> tuple[str, list]:
    cells = [
        md(f"""# {number} · {title}

{about}

**Reads** the dataset (the synthetic one by default) through the frame cache. **Writes**
`artifacts/{key}_<dataset>_split<N>_<profile>/` (checkpoints `best.pt`, `last.pt`, and `metrics.json` with the
config, views, timings and environment), and its key metrics for the report."""),
        params(PARAMS_TRAIN),
        code(f"""import inspect

import pandas as pd
from IPython.display import display

from harutils import config, experiment, results, viz
from harutils.models import {module}

cfg = config.make_config("{key}", dataset, profile, recipe=recipe, weights_dir=weights_dir, data_root=data_root,
                         split=split, epochs=epochs, device=device, wandb_mode=wandb_mode, out_dir=out_dir,
                         data_dir=data_dir)
print(config.summary(cfg))""", hide=True),
        md(f"""## The model
The code below is the model as the package defines it (`harutils/models/{module}.py`): the network, its builder
(paper size and the demo's small size) and its card, which tells the data pipeline, the trainer and the explainer
what the model takes and where to look."""),
        code(f"print(inspect.getsource({module}))"),
        md("""## Training
Cross-entropy, Adam and an exponential learning-rate decay each epoch; one line per epoch (the best validation
epoch is starred). A checkpoint is written every epoch, so a killed run started again resumes."""),
        code("run = experiment.run(cfg)"),
        md("""The card of the model that trained: its input, sampling, preprocessing, the layer the explanations look
at, and where its weights came from (the load report of pretrained weights)."""),
        code('pd.Series(run["card"])'),
        md("""## Learning curves
Training loss and accuracy are on single random clips; validation accuracy is per video (one centred view)."""),
        code('viz.learning_curves(run["history"]);'),
        md("""## Test metrics
The best validation checkpoint on the official test split. *Video* accuracy averages the softmax over the views
listed; *clip* accuracy scores each view alone. The temporal-order probe scores the centre clip of each test video
with its frames in order, shuffled and reversed: a model that ignores time scores the same on all three."""),
        code("""test = run["test"][dataset]
display(pd.DataFrame({k: [test[k]] for k in ("video_top1", "clip_top1", "video_top5", "mean_class_accuracy", "views")}))
display(pd.DataFrame(test["temporal_order_probe"]).T)"""),
        md("## Confusion matrix"),
        code('viz.confusion(test["confusion_matrix"], list(test["per_class_accuracy"]));'),
        md("""## What the model gets wrong
The class pairs it confuses most, and the test videos it got most wrong (highest loss), with the class it chose
and how sure it was. On the synthetic data, watch for the pairs only time separates (sit down / stand up, raise /
lower arms, walk left / right)."""),
        code("""display(results.confused_pairs(test).round(2))
display(results.hardest_videos(test).round(2))"""),
        code(f"""results.record_key_metrics(out_dir, "{number}_{key}", {{
    "test video top-1": test["video_top1"], "shuffled": test["temporal_order_probe"]["shuffle"]["video_top1"],
    "epochs": len(run["history"]), "train s": run["timings"]["fit_seconds"]}})""", hide=True),
    ]
    return f"{number}_{key}", cells


NOTEBOOKS = []

NOTEBOOKS.append(("01_dataset_exploration", [
    md("""# 01 · Dataset exploration
What is in the dataset: classes and their sizes, clip durations, frame rates and resolutions, the group structure
(clips cut from one source share actor and scene, so they must not straddle train and validation), sample frames per
class, and the files that do not decode.

**Reads** the dataset (by default the synthetic one in the UCF101 layout, generated on first use).
**Writes** the manifest `artifacts/manifest_<dataset>_split<N>.csv` (one row per video) and key metrics."""),
    params(PARAMS_COMMON),
    code("""from pathlib import Path

from IPython.display import display
from matplotlib_inline.backend_inline import set_matplotlib_formats

from harutils import results, viz
from harutils.data import datasets, manifest, sampling
from harutils.data.video import read_frames

set_matplotlib_formats("jpeg")  # the page shows 80 video frames: JPEG keeps it light
ds = datasets.open_dataset(dataset, data_root, split, "train", data_dir=data_dir)
print(ds.name, "at", results.shown_path(ds.root), "-", len(ds.classes), "classes")""", hide=True),
    md("""## The manifest
One row per video named by the split files (train, group-aware validation and test), probed once and cached:
the frame count is what actually decodes."""),
    code("""table = manifest.scan(ds, Path(out_dir) / f"manifest_{dataset}_split{split}.csv")
display(table.head().assign(path=table["path"].head().map(results.shown_path)))
display(table.groupby("role")[["frames", "duration"]].describe().round(1))"""),
    md("## Classes and roles"),
    code("viz.class_distribution(table);"),
    md("## Durations, frame rates and resolutions"),
    code("viz.video_properties(table);"),
    md("""## Groups
Each class is recorded in a few groups; the validation split keeps every group on one side."""),
    code("viz.groups_per_class(table);"),
    md("## Five uniformly sampled frames of one video per class"),
    code("""first = table[table["status"] == "ok"].groupby("class").first()
grid = {cls: read_frames(row.path, sampling.UniformFrames(5)(int(row.frames))[0], frame_size=96).numpy()
        for cls, row in first.head(16).iterrows()}
viz.frame_grid(grid);"""),
    md("""## Bad files
Videos that are named by the split files but missing on disk, and videos that do not decode."""),
    code("""bad = manifest.bad_files(table)
print(f"{(~table['present']).sum()} missing, {len(bad)} unreadable of {len(table)} videos")
display(bad[["path", "status"]].head(20).assign(path=lambda t: t["path"].map(results.shown_path)))"""),
    code("""results.record_key_metrics(out_dir, "01_dataset_exploration", {
    "videos": len(table), "classes": table["class"].nunique(), "missing": int((~table["present"]).sum()),
    "unreadable": len(bad)})""", hide=True),
]))

NOTEBOOKS.append(("02_frame_extraction", [
    md("""# 02 · Frame extraction
The three sampling strategies of the series, drawn on one video so you can see which frames each model gets:
**5 uniform frames** (Late Fusion, LRCN), **one 16-frame clip** (C3D, I3D, Non-local in training) and **five
16-frame clips** (the video-level evaluation). Then the frame store: every video decoded once, so that training
epochs never decode the original videos. The store covers both datasets, since notebook 09 trains on the two.

**Reads** both datasets (generated first if synthetic). **Writes** the frame store (`data/cache/` on the demo
profile, `data/video_store/` on the full profile) and key metrics."""),
    params(PARAMS_COMMON + '''
joint_root: str = ""           # the other dataset's root (notebook 09 trains on both); empty: its synthetic default
frame_size: int | None = None  # shorter side frames are decoded at; None: the profile's value'''),
    code("""import time

import numpy as np

from harutils import config, results, viz
from harutils.data import datasets, pipeline, sampling
from harutils.data.video import probe, read_frames

stores_to_build = {dataset: config.frame_settings(profile, data_dir, frame_size),  # every model's frame sizes
                   config.other_dataset(dataset): config.frame_settings(profile, data_dir, frame_size,
                                                                        config.joint_models(profile))}
test = datasets.open_dataset(dataset, data_root, split, "test", data_dir=data_dir)
path, label = test.samples[0]
n = probe(path).frame_count
print(f"{path.name}: {n} frames, class {test.classes[label]}")""", hide=True),
    md("## Which frames each strategy takes"),
    code("""strategies = {"5 uniform frames (eval)": sampling.UniformFrames(5)(n),
              "5 uniform frames (train, random)": sampling.UniformFrames(5)(n, True, np.random.default_rng(0)),
              "1 clip of 16 (eval, centred)": sampling.Clip(16)(n),
              "5 clips of 16 (eval)": sampling.MultiClip(5, 16)(n)}
viz.sampling_strategies(n, strategies);"""),
    md("## The frames themselves"),
    code("""idx = sampling.UniformFrames(5)(n)[0]
viz.strip(read_frames(path, idx, frame_size=112).numpy(), "5 uniform frames", [str(i) for i in idx])
idx = sampling.Clip(16)(n)[0][::2]
viz.strip(read_frames(path, idx, frame_size=112).numpy(), "every other frame of the centred 16-frame clip",
          [str(i) for i in idx]);"""),
    md("""## Building the frame store
Both profiles keep every frame, so random clips and random frames per segment are drawn afresh each epoch; bad
videos are reported and skipped; the build runs on every core, resumes after a kill, and a second build reuses
every entry (a changed video or setting is rebuilt, never served stale).

- **Demo**: all frames as uint8 arrays at the training resolution (64 px, and 96 px for ViViT, which crops them
  to 64; both sizes from one decode of each video), kept in memory or memory-mapped.
- **Full**: every video re-encoded once as a short-GOP H.264 copy (a keyframe every 16 frames, CRF 18) at two
  sizes: its own resolution capped at 256 px, which the 224-256 px models read, and 128 px, which C3D's 112-128 px
  clips read at a third of the decoding cost. Every model and both recipes read with exact seeks, resized to
  their own frame size. Originals that already seek exactly every 16 frames or less at the store's size (most
  UCF101 clips, for the 256 px store) are read in place rather than copied. JPEG frames per video would take 3-5
  times the disk; the measured candidates and the storage of UCF101 + HMDB51 are in
  `benchmarks/results/frame_store_cpu.json` (the results notebook shows them). Training's loader workers hand
  their clips over as uint8 and the model normalises them on its own device: a quarter of the bytes to move, and
  no float work in the workers (one worker either way: `benchmarks/results/loader_handover_cpu.json`)."""),
    code("""stores = {}
for name, given_root in ((dataset, data_root), (config.other_dataset(dataset), joint_root)):
    root = datasets.resolve_root(name, given_root, data_dir)
    videos = [p for subset in ("train", "val", "test")
              for p, _ in datasets.open_dataset(name, given_root, split, subset, data_dir=data_dir).samples]
    start = time.perf_counter()
    built = pipeline.prepare_all_frames(stores_to_build[name], name, root, videos)  # one decode for all sizes
    build_seconds = time.perf_counter() - start
    start = time.perf_counter()
    pipeline.prepare_all_frames(stores_to_build[name], name, root, videos, progress=False)
    for frames, report in zip(stores_to_build[name], built, strict=True):
        print(f"{name}, {frames.frame_size} px: {report}")
        stores[f"{name} {frames.frame_size} px"] = {"videos": len(videos), "store MB": report.disk_bytes / 2**20}
    print(f"  built in {build_seconds:.1f} s, checked again in {time.perf_counter() - start:.2f} s")
    stores[name] = {"build s": build_seconds}"""),
    code("""results.record_key_metrics(out_dir, "02_frame_extraction", {
    f"{name} {key}": value for name, row in stores.items() for key, value in row.items()})""", hide=True),
]))

NOTEBOOKS.append(model_notebook("03", "late_fusion", "Late Fusion", "late_fusion",
    "A 2D ResNet (ResNet-152 at full size) on 5 frames sampled uniformly over the video; the per-frame features are "
    "averaged after the backbone, then classified. No temporal modelling: averaging forgets the frame order."))
NOTEBOOKS.append(model_notebook("04", "c3d", "C3D", "c3d",
    "Tran et al.'s 3D VGG-style network: eight 3x3x3 convolutions, five max pools, fc6/fc7 of 4096 units, on "
    "16-frame clips (8 at demo size). Its convolutions see motion directly."))
NOTEBOOKS.append(model_notebook("05", "lrcn", "LRCN", "lrcn",
    "Per-frame 2D ResNet features fed in order to an LSTM (Donahue et al.): time is modelled after the CNN. The "
    "demo's recipe trains it as the paper does, a prediction at every step scored against the clip's label, and "
    "classifies by the mean of the steps' predictions; the reference report's recipe reads the last step only. Its "
    "frame CNN starts trained, as the paper's does (from ImageNet at full size; on the demo from notebook 03's Late "
    "Fusion, trained first if that notebook has not run): Late Fusion and LRCN then differ only in what follows the "
    "CNN, a mean over the frames or an LSTM through them in order."))
NOTEBOOKS.append(model_notebook("06", "i3d", "I3D", "i3d",
    "A ResNet-50 inflated to 3D (Carreira and Zisserman; the Non-local paper's I3D baseline): its ImageNet "
    "weights are repeated along time at full size; the demo trains the same design from scratch."))
NOTEBOOKS.append(model_notebook("07", "nonlocal", "Non-local network", "nonlocal_net",
    "I3D with embedded-Gaussian non-local blocks (Wang et al.): every position attends to every other position in "
    "space and time. The blocks start as the identity."))

NOTEBOOKS.append(model_notebook("08", "vivit", "ViViT: a video transformer", "vivit",
    "Beyond the reference, its first named next step: ViViT's factorised encoder (Arnab et al., ICCV 2021). A "
    "spatial transformer (an ImageNet ViT-B/16 at full size, its patch embedding inflated to 2-frame tubelets) "
    "encodes each time step; a temporal transformer attends across the time steps. The demo trains a narrow "
    "version of the same class from scratch: transformers lack the convolutions' built-in locality, so watch how "
    "it fares on a few hundred clips against the 3D CNNs."))

NOTEBOOKS.append(("09_joint_training", [
    md("""# 09 · Joint training on UCF101 and HMDB51
One backbone, one head per dataset, batches from the two datasets in turn: the setting that gave the reference
report its best result. Each model trained jointly is compared with the same model trained on each dataset alone.

**Reads** both datasets (synthetic by default: they share some classes and differ in others) and the single-dataset
UCF101 runs of notebooks 03-08 when present. **Writes** the joint runs and the single-dataset HMDB51 runs under
`artifacts/`, and key metrics."""),
    params(PARAMS_TRAIN + '''
joint_root: str = ""            # HMDB51 root (empty: the synthetic HMDB51-layout dataset)
models: str = ""                # comma-separated; empty: the profile's (demo: NL; full: all six)'''),
    code("""import pandas as pd
from IPython.display import display

from harutils import config, experiment, results, viz

common = dict(recipe=recipe, weights_dir=weights_dir, split=split, epochs=epochs, device=device, wandb_mode=wandb_mode,
              out_dir=out_dir, data_dir=data_dir)
names = config.joint_models(profile, models)
print("joint training:", ", ".join(names))
other = config.other_dataset(dataset)""", hide=True),
    md("""## Joint runs
Each epoch alternates batches of the two datasets; the loss and validation accuracy are logged per dataset, and
the best checkpoint is chosen on their mean."""),
    code("""joint = {m: experiment.run(config.make_config(m, dataset, profile, data_root=data_root, joint_with=other,
                                         joint_root=joint_root, **common)) for m in names}"""),
    md("## Single-dataset runs for comparison (the ones notebooks 03-08 did not train)"),
    code("""single = {}
for m in names:
    for name, root in ((dataset, data_root), (other, joint_root)):
        single[(m, name)] = experiment.run(config.make_config(m, name, profile, data_root=root, **common))"""),
    md("## Joint against single-dataset training (test, video level)"),
    code("""rows = []
for m in names:
    for name in (dataset, other):
        rows.append({"model": m, "dataset": name, "single": single[(m, name)]["test"][name]["video_top1"],
                     "joint": joint[m]["test"][name]["video_top1"]})
display(pd.DataFrame(rows).round(3))"""),
    md("## Learning curves of the joint runs"),
    code("""viz.compared_curves({m: joint[m]["history"] for m in names}, "joint runs, every model");"""),
    code("""results.record_key_metrics(out_dir, "09_joint_training", {
    f"{r['model']} {r['dataset']} joint-single": r["joint"] - r["single"] for r in rows})""", hide=True),
]))

NOTEBOOKS.append(("10_qualitative_analysis", [
    md("""# 10 · Qualitative analysis: activation maps, Grad-CAM, guided backpropagation, scored
Where do the trained models look, and which frames matter? For the 3D models (I3D, C3D, Non-local) the maps live
in space and time; for the 2D per-frame models (Late Fusion, LRCN) Grad-CAM is computed on each frame. On the
synthetic dataset the generator knows where the actor and its moving limbs are in every frame, so each map is
**scored**: the share of its mass on the actor and on the moving limbs, against what a uniform map gets, and
whether its mass over time follows the frames where the limbs move. The examples shown are the best and the worst
explained test clips of each model and a clip of a class only time tells apart.

**Reads** the best checkpoints of notebooks 03-08 (a missing one is trained first) and the actor masks of the
synthetic test videos. **Writes** nothing but key metrics."""),
    params(PARAMS_TRAIN + '''
models: str = ""               # comma-separated; "": every registered model
clips: int = 2                 # test clips explained per model where no masks exist (real videos)
score_clips: int = 56          # test clips scored per model, spread over the test set (the demo's has 308)
video_path: str = ""           # try the models on your own video (any file PyAV opens); "": a test video'''),
    code("""import warnings

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, display
from matplotlib_inline.backend_inline import set_matplotlib_formats

from harutils import config, experiment, explain, explanation_scores, predict_video, results, runtime, viz
from harutils.data import pipeline, stick_figures, synthetic
from harutils.models import MODEL_NAMES

warnings.filterwarnings("ignore", message="Setting backward hooks")
set_matplotlib_formats("jpeg")  # frames and heat maps: JPEG is a fifth of the PNG, and the page has dozens
names = [m.strip() for m in models.split(",") if m.strip()] or list(MODEL_NAMES)
common = dict(recipe=recipe, weights_dir=weights_dir, data_root=data_root, split=split, epochs=epochs,
              device=device, wandb_mode=wandb_mode, out_dir=out_dir, data_dir=data_dir)
order_only = {c for c in synthetic.LAYOUTS[dataset]["classes"]
              if any(synthetic.action_of(c) in pair for pair in stick_figures.TEMPORAL_PAIRS)}""", hide=True),
    md("""## Explanations per model
For each model: its maps scored on `score_clips` test clips, then the clips worth looking at. Each shows the true
and the predicted class with the model's confidence, the input as a person sees it (resized and cropped as the
model gets it, before normalisation), the mean activation of the explained stage, Grad-CAM for the true class,
guided backpropagation (colour bar: 0 to each map's maximum on the clip), the share of Grad-CAM mass per frame, and
right below, the Grad-CAM overlay as an animation."""),
    code("""scored, stages, tests = [], {}, {}
for m in names:
    cfg = config.make_config(m, dataset, profile, **common)
    experiment.run(cfg)  # trains first when notebooks 03-08 have not run
    model = experiment.load_trained_model(cfg).to(runtime.resolve_device(cfg.device))  # where the model trained
    test = tests[m] = pipeline.build_data(cfg, model.card, progress=False).test
    picks = {i: "" for i in explanation_scores.spread(len(test), clips)}
    if explanation_scores.has_ground_truth(test):
        scores = explanation_scores.score_model(model, test, explanation_scores.spread(len(test), score_clips))
        scored.append(scores.assign(model=m))
        stages[m] = explanation_scores.score_stages(model, test, explanation_scores.spread(len(test), 12))
        picks = explanation_scores.teaching_examples(scores, order_only)
    for i, why in picks.items():
        clip, label = test[i]
        seen = test.transform.as_seen(test.load_frames(test.samples[i][0]))[0]  # the first view, as it looks
        result = explain.explain_clip(model, clip, label, seen=seen)
        said = f"predicted {test.classes[result['predicted']]} ({result['confidence']:.0%})"
        display(viz.explanation(result, f"{m}: true {test.classes[label]}, {said} {why}"))
        plt.close("all")  # shown here, next to its animation, not at the end of the cell
        display(HTML(viz.gif_html(result["gif"], caption=f"{m}: true {test.classes[label]}, {said}; Grad-CAM")))"""),
    md("""## Do the maps point at the action?
Mean scores over the scored clips. *Share*: the map's mass on the actor (or on the limbs moving in that frame);
*baseline*: what a uniform map scores (the share of the frame they cover); *lift*: share / baseline, 1 meaning no
better than uniform. *Temporal agreement*: the correlation over frames between the map's mass and the moving limbs'
area (left out where either is constant). Real videos have no masks: there this section says so and shows
nothing."""),
    code("""if scored:
    summary = explanation_scores.summarise(pd.concat(scored))
    display(summary.round(3))
    viz.explanation_scores(summary)
    for line in explanation_scores.describe(summary):
        print(line)
else:
    summary = None
    print("no actor masks: these are real videos, whose ground truth nobody knows; the maps are shown unscored")"""),
    md("""## Which layer can show where the model looks?
Grad-CAM is usually computed on the last convolutional stage. At the demo size that stage's map is 2x2 (4x4 and a
single time step for C3D) for a 64-pixel frame: too coarse to outline a figure that covers a tenth of it, so its
score stays near a uniform map's whatever the model does. The table scores Grad-CAM at the last block of every
stage on 12 of the scored clips; the demo's cards therefore explain at res3 (C3D: conv3b), the paper-size models
at their last stage (7x7 at 224 pixels)."""),
    code("""if stages:
    display(pd.concat(stages, names=["model"]).round(2))"""),
    md("""## Reading the maps
A model that uses motion puts its Grad-CAM mass on the moving limbs and on the frames where the motion happens; a
model that relies on appearance spreads it over the figure in every frame. Guided backpropagation works at the
pixels, so it localises best; Grad-CAM shows which region and which frames weigh in the decision."""),
    md("""## Try it on your own video
Set `video_path` to any video file (phone clips included: their rotation is applied) and run this cell: every
model classifies evenly spaced moments of it, each moment sampled as the model was trained, and the plot shows its
five most probable classes over time. The models know only the classes they were trained on (on the demo profile,
the synthetic dataset's stick-figure actions), so on a real video their answer is what those classes look most
like. Empty `video_path`: the first test video."""),
    code("""own = video_path or str(test.samples[0][0])
for m in names:
    cfg = config.make_config(m, dataset, profile, **common)
    model = experiment.load_trained_model(cfg).to(runtime.resolve_device(cfg.device))
    over_time = predict_video.predict_over_time(model, own, tests[m].transform, tests[m].classes, cfg.frame_size,
                                                cfg.frame_stride)
    viz.predictions_over_time(over_time, f"{m} on {own.rsplit('/', 1)[-1]}")
    plt.show()"""),
    code("""results.record_key_metrics(out_dir, "10_qualitative_analysis", {"models explained": len(names)} | (
    {} if summary is None else {f"{m} Grad-CAM actor lift": summary.loc[(m, "Grad-CAM"), "actor lift"]
                                for m in names}))""", hide=True),
]))

NOTEBOOKS.append(("11_self_supervised", [
    md("""# 11 · Self-supervised pretraining: what are labels worth?
The reference report's last named next step. A backbone first learns without labels, on a **pretext task** whose
answer the video itself gives: is the clip playing *forward*, *backward*, or with its frames *shuffled*? (Misra et
al., "Shuffle and Learn", 2016; Wei et al., "Arrow of Time", 2018.) It is then fine-tuned on the actions with 10%
and with 100% of the training labels, against the same network trained from scratch on the same clips. The
**label-efficiency curve** is the result: how much of the labels' work the pretext task did.

Why this pretext and not VideoMAE's masked reconstruction: it asks for exactly what the series is about (order and
direction in time), a small 3D CNN learns it in a CPU minute, and it needs no decoder; masked reconstruction pays
off only with a transformer, long pretraining and many clips. Every run here starts from random weights on both
profiles (on the full one, the pretext task uses the real datasets' training videos, without their labels).

**Reads** the dataset. **Writes** its runs under `artifacts/self_supervised/` (kept out of the results table: a
pretext task's accuracy is not an action result) and key metrics."""),
    params(PARAMS_TRAIN + '''
model: str = "i3d"              # the backbone pretrained and compared (any registered model)
pretext_epochs: int | None = None  # None: as epochs, else the demo's budget (recipes), else the profile's
label_fractions: str = "0.1,1.0"   # shares of each class's training labels, comma-separated'''),
    code("""from pathlib import Path

from IPython.display import display

from harutils import config, experiment, pretext, results, viz

# every run is scored on one centred clip per test video, without the temporal-order probe: the curve compares
# starts, not the best number a model reaches (notebooks 03-08 score five views), at a fifth of the cost
common = dict(recipe=recipe, weights_dir=weights_dir, data_root=data_root, split=split, device=device,
              wandb_mode=wandb_mode, out_dir=str(Path(out_dir) / "self_supervised"), data_dir=data_dir,
              pretrained=False, test_views=1, order_probe=False)
shares = [float(f) for f in label_fractions.split(",") if f.strip()]
pretext_epochs, tune_epochs = pretext.epochs_for(profile, epochs, pretext_epochs)
pre_cfg = config.make_config(model, dataset, profile, pretext="playback", epochs=pretext_epochs, **common)
print(config.summary(pre_cfg))""", hide=True),
    md("""## Pretraining on the pretext task, without labels
Each training clip is shown forward, backward or shuffled at random, and the network learns which. Chance is 1/3.
Periodic actions (waving, clapping) look alike forward and backward, so a perfect score is not expected."""),
    code("pretext_run = experiment.run(pre_cfg)"),
    code("""pretext_test = pretext_run["test"][dataset]
print(f"pretext test accuracy: {pretext_test['video_top1']:.3f} (chance 0.333)")
viz.confusion(pretext_test["confusion_matrix"], list(pretext_test["per_class_accuracy"]),
              "Pretext task: how is the clip playing?");"""),
    md("""## Fine-tuning on the actions, against training from scratch
The same network and schedule; the pretrained runs start from the pretext run's weights (all but its head). The
10% runs see the same labelled clips (at least one per class), passed over ten times an epoch: every run makes as
many optimizer steps, so the curve compares labels, not training length."""),
    code("""runs = {}
for share in shares:
    for start, init in (("from scratch", ""), ("pretrained", str(pre_cfg.run_dir))):
        cfg = config.make_config(model, dataset, profile, epochs=tune_epochs, label_fraction=share, init_from=init,
                                 **common)
        runs[(share, start)] = experiment.run(cfg, progress=False)
curve = results.label_efficiency(runs, dataset)
display(curve.round(3))"""),
    md("""## The label-efficiency curve
Where the pretrained line lies above the one from scratch, the pretext task did part of the labels' work. On the
synthetic data, watch the classes only time separates (the pair accuracy column)."""),
    code("viz.label_efficiency(curve);"),
    code("""gain = curve.pivot_table(index="labels", columns="start", values="test video top-1")
results.record_key_metrics(out_dir, "11_self_supervised", {"pretext accuracy": pretext_test["video_top1"]} | {
    f"gain at {share:.0%} labels": float(gain.loc[share, "pretrained"] - gain.loc[share, "from scratch"])
    for share in gain.index})""", hide=True),
]))

NOTEBOOKS.append(("12_results", [
    md("""# 12 · Results
Everything measured by the series in one place: the reference-style table (validation and test accuracy, UCF101
and HMDB51, single-dataset and joint training, every model), video- and clip-level accuracy, top-5 and mean-class
accuracy, the temporal-order probe, what a leaky validation split costs, and the run time of every notebook.

**Reads** every `artifacts/*/metrics.json` and `reports/run_log.json` (written by `run_all.sh`). **Writes** the
leaky-validation run and key metrics."""),
    params(PARAMS_TRAIN + '''
reports_dir: str = "../reports"  # where run_all.sh writes its run log
reference_csv: str = ""          # the reference report's table (model,dataset,training,test top-1); empty: none
benchmarks_dir: str = "../benchmarks/results"  # the figures recorded by benchmarks/*.py'''),
    code("""import json
from pathlib import Path

import pandas as pd
from IPython.display import HTML, display

from harutils import config, experiment, recipes, results, viz

table = results.collect_results(out_dir)
table = table[table["profile"] == profile]
print(f"{len(table)} result rows from {table['run'].nunique()} runs")""", hide=True),
    md("""## The reference-style table
Validation (one centred view) and test (video level, the views in the last column) accuracy."""),
    code("""honest = table[table["val split"] == "group-aware"]
display(honest.pivot_table(index=["model", "training"], columns="dataset",
                           values=["val top-1", "test video top-1"], aggfunc="first").round(3))"""),
    md("## Video against clip level, top-5 and mean-class accuracy"),
    code("""display(honest[["model", "dataset", "training", "test video top-1", "test clip top-1", "test video top-5",
                "mean class acc", "views"]].round(3))"""),
    md("""## Which models use time?
On the synthetic data, some classes differ only in temporal order (sit down / stand up, raise / lower arms) or
direction (walk left / right). The probe scores the centre clip of each test video with its frames in order,
shuffled and reversed. Shuffling or reversing leaves an order-blind model's accuracy unchanged; on those pair
classes an order-blind model can only guess between the two (0.5), a model that uses time can reach 1."""),
    code("""single = honest[honest["training"] == "single"].to_dict("records")
probes = {f"{r['model']} ({r['dataset']})": {"ordered": {"video_top1": r["centre clip top-1"]},
                                             "shuffled": {"video_top1": r["shuffled top-1"]},
                                             "reversed": {"video_top1": r["reversed top-1"]}} for r in single}
viz.temporal_probe(probes)
on_pairs = honest[(honest["training"] == "single") & honest["pairs acc"].notna()]
if len(on_pairs):
    viz.pair_accuracy(on_pairs.assign(model=on_pairs["model"] + " (" + on_pairs["dataset"] + ")"))"""),
    md("""## The cost of a leaky validation split
The same model trained with a random validation split (clips of one group on both sides) and with the group-aware
split. The leaky split's validation accuracy overstates the test accuracy; the group-aware one does not."""),
    code("""leak = {}
for leaky in (False, True):
    cfg = config.make_config("late_fusion", dataset, profile, recipe=recipe, weights_dir=weights_dir,
                             data_root=data_root, split=split, epochs=epochs, device=device, wandb_mode=wandb_mode,
                             out_dir=out_dir, data_dir=data_dir, leaky_val=leaky)
    r = experiment.run(cfg)
    leak["leaky" if leaky else "group-aware"] = {"validation": r["test"][dataset]["val_video_top1"],
                                                 "test": r["test"][dataset]["video_top1"]}
leak = pd.DataFrame(leak).T
leak["validation - test"] = leak["validation"] - leak["test"]
display(leak.round(3))"""),
    md("""## Does RandAugment help?
The reference report found that augmentation did not help. Here each demo model trained with and without
RandAugment (one sampled policy per clip, alike on every frame) over several seeds, by
`benchmarks/bench_demo_seeds.py --randaugment both` (its figures, `benchmarks/results/randaugment_demo_cpu.json`,
were measured on the machine named under "Speed"). A difference within twice the seed spread is no difference."""),
    code("""augmentation = results.randaugment_comparison(benchmarks_dir)
if augmentation is None:
    print("not measured yet: .venv/bin/python benchmarks/bench_demo_seeds.py --randaugment both")
else:
    display(augmentation.round(3))"""),
    md("""## Run time of every notebook
Beside each, the machine's speed just before it ran: training steps per second of a fixed small 3D CNN
(`runtime.reference_speed`). A shared machine slows down and speeds up; compare run times of two runs only where
that speed is alike."""),
    code("""log_path = Path(reports_dir) / "run_log.json"
if log_path.is_file():
    display(pd.DataFrame(json.loads(log_path.read_text())).reindex(
        columns=["notebook", "status", "seconds", "reference_steps_per_s"]).round(1))
else:
    print("no run log: run the series with ./run_all.sh to time every notebook")"""),
    md("""## Speed: the recorded benchmarks
The figures written by `benchmarks/*.py` (`benchmarks/results/*.json`), one folded block per file (click to open),
each with the machine it was measured on: decoders and the frame cache, forward and backward per model, demo
training throughput and the share of each step spent waiting for data, the full profile's frame store (candidates,
storage, loading per worker), and generating the synthetic datasets. Rerun a benchmark to refresh its table."""),
    code("""display(HTML(results.benchmarks_html(results.benchmark_tables(benchmarks_dir))))"""),
    md("""## The reference report and the published numbers (full profile)
This run's test top-1 (%) beside the reference report's table (Jan 2023; `reference_csv` may name a CSV
`model,dataset,training,test top-1` to replace it) and the papers' single-model RGB results. The `reference`
recipe reproduces the report as published; `improved` is this project's practice. On the demo profile (synthetic
data, small models from scratch) none of them are comparable, and the table is not shown."""),
    code("""if profile == "full":
    reference = results.read_reference(reference_csv) if reference_csv else None
    display(results.side_by_side(table, reference).round(1))
else:
    print("demo profile: the reference report's and the published numbers are for the full profile")"""),
    md("""## The two recipes of the full profile
Every setting in which `reference` (the report as published) and `improved` differ, per model, and why where the
report is silent."""),
    code("""display(pd.DataFrame(recipes.differences()))
display(pd.Series(recipes.REASONS, name="why"))"""),
    code("""results.record_key_metrics(out_dir, "12_results", {"runs": table["run"].nunique(),
    "leaky val overstatement": float(leak.loc["leaky", "validation - test"])})""", hide=True),
]))


def main() -> None:
    out = ROOT / "notebooks"
    out.mkdir(exist_ok=True)
    for name, cells in NOTEBOOKS:
        for i, cell in enumerate(cells):
            cell.id = f"cell-{i:02d}"  # stable ids: regenerating gives identical files
        nb = new_notebook(cells=cells, metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3 (harutils)", "language": "python"},
            "language_info": {"name": "python"}})
        nbformat.write(nb, out / f"{name}.ipynb")
        print("wrote", out / f"{name}.ipynb")


if __name__ == "__main__":
    main()
