"""How the synthetic dataset's clips are drawn: a scene's textured background, the stick figure posed frame by frame
under a shaking camera, flickering light and sensor noise, and the masks of where the actor and its moving limbs are.

A clip's geometry (every joint of every frame, in cv2's sub-pixel coordinates) is computed once, in one array
operation, and serves the frames and both masks alike; :mod:`.synthetic` decides what each clip shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from . import stick_figures

HEIGHT = 240
SUBPIXEL = 4  # cv2 sub-pixel precision: coordinates in 1/16 pixel
LIMBS = ("l_arm", "r_arm", "l_leg", "r_leg")


@dataclass(frozen=True)
class Scene:
    """What a group shares: the actor, the place, the light and the camera."""

    body: stick_figures.Body
    width: int
    scale: float  # figure height in pixels
    x: float  # figure centre, pixels
    ground: float  # feet line, pixels from the top
    light: float
    noise: float
    jitter: float
    texture_seed: int


@dataclass(frozen=True)
class ClipSpec:
    """Everything that determines one clip's frames."""

    action: str
    scene: Scene
    motion: stick_figures.Motion
    frames: int
    offset: tuple[float, float]
    seed: int


def background(scene: Scene) -> np.ndarray:
    """A textured (H, W, 3) float background: smooth colour blobs, stripes and a floor."""
    rng = np.random.default_rng(scene.texture_seed)
    h, w = HEIGHT, scene.width
    low = rng.uniform(40, 220, size=(4, 5, 3)).astype(np.float32)
    img = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    angle, freq = rng.uniform(0, math.pi), rng.uniform(0.03, 0.15)
    stripes = np.sin((xx * math.cos(angle) + yy * math.sin(angle)) * freq)[..., None]
    img += stripes * rng.uniform(5, 25) * rng.uniform(0.5, 1, size=3)
    floor = yy[..., None] > scene.ground - 2
    img = np.where(floor, img * 0.6 + rng.uniform(20, 120, size=3), img)
    fine = cv2.resize(rng.normal(0, 1, size=(h // 4, w // 4, 3)).astype(np.float32), (w, h))
    return np.clip(img + fine * 8, 0, 255)


class Geometry:
    """Every joint of every frame of a clip: :meth:`frame` gives one frame's joints in cv2 sub-pixel image
    coordinates (the camera's shake included); ``ends`` is a ``(T, limbs, 2)`` array of the limb ends in pixels
    without the shake (how a limb moves against the scene)."""

    def __init__(self, spec: ClipSpec, walk: np.ndarray):
        scene, t_max = spec.scene, max(spec.frames - 1, 1)
        joints = [stick_figures.joints(stick_figures.pose_at(spec.action, t / t_max, spec.motion), scene.body)
                  for t in range(spec.frames)]
        self.names = list(joints[0])
        body = np.array([[joints_t[n] for n in self.names] for joints_t in joints])  # (T, J, 2), body heights
        shift = np.asarray(spec.offset) + walk  # (T, 2): the clip's offset and the camera's shake, pixels
        self.points = self._subpixel(body, scene, shift[:, None, :]).tolist()  # (T, J, 2) Python ints, for cv2
        ends = body[:, [self.names.index(f"{limb}_end") for limb in LIMBS]]
        self.ends = self._subpixel(ends, scene, np.asarray(spec.offset)) / (1 << SUBPIXEL)

    @classmethod
    def of(cls, spec: ClipSpec) -> Geometry:
        """The geometry of a clip, its camera's shake drawn as :func:`render_clip` draws it (the seed's first draws)."""
        return cls(spec, camera_walk(np.random.default_rng(spec.seed), spec))

    @staticmethod
    def _subpixel(body: np.ndarray, scene: Scene, shift: np.ndarray) -> np.ndarray:
        """Points in body heights -> rounded sub-pixel coordinates (x right, y down), as ``int(round(...))`` per
        coordinate would give (both round half to even)."""
        x = (scene.x + shift[..., 0]) + body[..., 0] * scene.scale
        y = (scene.ground + shift[..., 1]) - body[..., 1] * scene.scale
        return np.rint(np.stack([x, y], -1) * (1 << SUBPIXEL)).astype(np.int64)

    def frame(self, t: int) -> dict[str, tuple[int, int]]:
        """Joint name -> (x, y) of frame ``t``."""
        return {n: tuple(p) for n, p in zip(self.names, self.points[t], strict=True)}


def draw_figure(img: np.ndarray, px: dict[str, tuple[int, int]], scene: Scene,
                colours: tuple | None = None) -> None:
    """Draw the figure at the sub-pixel points ``px`` (one frame of a :class:`Geometry`) in place on a uint8 image,
    with antialiased lines and filled shapes; ``colours`` (skin, shirt, trousers) default to the actor's."""
    body, s, sub, aa = scene.body, scene.scale, SUBPIXEL, cv2.LINE_AA
    skin, shirt, trousers = colours or (body.skin, body.shirt, body.trousers)
    thick = max(2, int(round(body.thickness * s)))
    for side in ("l", "r"):  # legs behind the torso
        leg = np.array([px[f"{side}_leg_root"], px[f"{side}_leg_mid"], px[f"{side}_leg_end"]])
        cv2.polylines(img, [leg], False, trousers, thick, aa, sub)
    cv2.line(img, px["hip"], px["neck"], shirt, int(thick * 2.2), aa, sub)
    for side in ("l", "r"):
        shoulder = px[f"{side}_arm_root"]
        cv2.line(img, px["neck"], shoulder, shirt, thick, aa, sub)
        cv2.polylines(img, [np.array([shoulder, px[f"{side}_arm_mid"]])], False, shirt, thick, aa, sub)
        cv2.line(img, px[f"{side}_arm_mid"], px[f"{side}_arm_end"], skin, max(2, thick - 1), aa, sub)
    cv2.circle(img, px["head"], int(round(body.head * s * (1 << sub))), skin, -1, aa, sub)


def camera_walk(rng: np.random.Generator, spec: ClipSpec) -> np.ndarray:
    """(T, 2) camera shake in pixels: a smooth random walk around zero (the clip's first draws)."""
    walk = np.cumsum(rng.normal(0, spec.scene.jitter * 0.3, size=(spec.frames, 2)), axis=0)
    return walk - walk.mean(0)


def render_clip(spec: ClipSpec, geometry: Geometry | None = None) -> np.ndarray:
    """(T, H, W, 3) uint8 frames of one clip (``geometry``: the clip's own, when the caller has it already)."""
    rng, scene = np.random.default_rng(spec.seed), spec.scene
    bg = background(scene)
    # camera jitter: a smooth random walk; light: a slow flicker; sensor noise: a few reused noise frames
    walk = camera_walk(rng, spec)
    geometry = geometry or Geometry(spec, walk)
    flicker = scene.light * (1 + 0.03 * np.sin(np.linspace(0, rng.uniform(1, 4), spec.frames) + rng.uniform(0, 6)))
    noise = rng.normal(0, scene.noise, size=(4, HEIGHT, scene.width, 3)).astype(np.float32)
    out = np.empty((spec.frames, HEIGHT, scene.width, 3), np.uint8)
    lit, noisy = np.empty(bg.shape, np.result_type(bg, flicker)), np.empty(bg.shape, np.result_type(np.uint8, noise))
    frame = np.empty(bg.shape, np.uint8)
    for t in range(spec.frames):
        # background and flicker are positive: only the top needs clipping; the casts truncate, as astype does
        np.copyto(frame, np.minimum(np.multiply(bg, flicker[t], out=lit), 255, out=lit), casting="unsafe")
        draw_figure(frame, geometry.frame(t), scene)
        np.copyto(out[t], np.clip(np.add(frame, noise[t % 4], out=noisy), 0, 255, out=noisy), casting="unsafe")
    return out


def render_masks(spec: ClipSpec, geometry: Geometry | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(T, H, W) boolean masks of one clip: the actor, and the limbs that move at each frame (their end moves by
    more than a third of a pixel per frame relative to the scene), as :func:`render_clip` draws them."""
    scene = spec.scene
    geometry = geometry or Geometry.of(spec)
    white = ((255,) * 3,) * 3
    thick = max(2, int(round(scene.body.thickness * scene.scale)))
    actor = np.zeros((spec.frames, HEIGHT, scene.width), bool)
    moving = np.zeros_like(actor)
    # per frame and limb: half the distance its end travels from the frame before to the frame after
    ends, frame = geometry.ends, np.arange(spec.frames)
    step = np.linalg.norm(ends[np.minimum(frame + 1, spec.frames - 1)] - ends[np.maximum(frame - 1, 0)], axis=-1) / 2
    canvas, limbs = np.empty((HEIGHT, scene.width, 3), np.uint8), np.empty((HEIGHT, scene.width), np.uint8)
    for t in range(spec.frames):
        px = geometry.frame(t)
        canvas.fill(0)
        draw_figure(canvas, px, scene, white)
        actor[t] = canvas[..., 0] > 127
        limbs.fill(0)
        for k, limb in enumerate(LIMBS):
            if step[t, k] > 1 / 3:
                line = np.array([px[f"{limb}_{j}"] for j in ("root", "mid", "end")])
                cv2.polylines(limbs, [line], False, 255, thick, cv2.LINE_AA, SUBPIXEL)
        moving[t] = (limbs > 127) & actor[t]
    return actor, moving


def render_clip_and_masks(spec: ClipSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`render_clip` and :func:`render_masks` of one clip from one computation of its geometry."""
    geometry = Geometry.of(spec)
    return render_clip(spec, geometry), *render_masks(spec, geometry)
