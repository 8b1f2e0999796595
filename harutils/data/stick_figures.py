"""Procedural articulated human figures performing actions (the content of the synthetic dataset).

A figure is a front-view skeleton: hip centre, torso, neck and head, two-segment arms and legs. An action maps
normalised clip time ``u`` in [0, 1] to a :class:`Pose` (joint angles, root offset), as smooth functions of time.
Periodic actions repeat ``cycles`` times from a random ``phase``; one-way actions (sit down, raise arms) run once,
and their partners are the same motion with time reversed, so only temporal order tells them apart. Walking left
and right are mirror images of one another.

Angles are radians. Limb angles are measured from hanging straight down, positive outwards (away from the body's
midline); elbow and knee angles are the bend of the lower segment, positive folding inwards and upwards.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TAU = 2 * math.pi


@dataclass(frozen=True)
class Pose:
    """Joint angles (radians) and root displacement (in body heights) at one instant."""

    lean: float = 0.0  # torso tilt, positive to the figure's right (image right)
    l_shoulder: float = 0.15
    l_elbow: float = 0.1
    r_shoulder: float = 0.15
    r_elbow: float = 0.1
    l_hip: float = 0.05
    l_knee: float = 0.0
    r_hip: float = 0.05
    r_knee: float = 0.0
    dx: float = 0.0  # root displacement, body heights, image right positive
    dy: float = 0.0  # root displacement, body heights, up positive


@dataclass(frozen=True)
class Motion:
    """Per-clip timing of an action: repetitions, starting phase and, for one-way actions, the covered span."""

    cycles: float = 2.0
    phase: float = 0.0
    start: float = 0.0
    end: float = 1.0
    walk_speed: float = 0.5


def _s(u: float) -> float:
    """Smooth step 0 -> 1 on [0, 1] (zero slope at both ends)."""
    u = min(max(u, 0.0), 1.0)
    return u * u * (3 - 2 * u)


def _osc(u: float, m: Motion, offset: float = 0.0) -> float:
    """Sine oscillation in [-1, 1] over the clip."""
    return math.sin(TAU * m.cycles * u + m.phase + offset)


def _pulse(u: float, m: Motion, offset: float = 0.0) -> float:
    """Smooth 0..1 pulse train (raised cosine)."""
    return 0.5 - 0.5 * math.cos(TAU * m.cycles * u + m.phase + offset)


def _span(u: float, m: Motion) -> float:
    """One-way progress 0 -> 1 across the clip's covered span."""
    return _s(m.start + (m.end - m.start) * u)


# ---- periodic actions ----
def wave(u, m):
    return Pose(r_shoulder=2.5, r_elbow=0.5 + 0.5 * _osc(u, m))


def clap(u, m):
    p = _pulse(u, m)
    return Pose(l_shoulder=0.9 - 0.3 * p, l_elbow=0.6 + 1.2 * p, r_shoulder=0.9 - 0.3 * p, r_elbow=0.6 + 1.2 * p)


def jumping_jack(u, m):
    p = _pulse(u, m)
    return Pose(l_shoulder=0.2 + 2.6 * p, r_shoulder=0.2 + 2.6 * p, l_elbow=0.1, r_elbow=0.1,
                l_hip=0.05 + 0.35 * p, r_hip=0.05 + 0.35 * p, dy=0.04 * math.sin(math.pi * p))


def squat(u, m):
    p = _pulse(u, m)
    return Pose(l_shoulder=0.2 + 1.2 * p, r_shoulder=0.2 + 1.2 * p, l_hip=0.05 + 0.9 * p, r_hip=0.05 + 0.9 * p,
                l_knee=1.9 * p, r_knee=1.9 * p, dy=-0.17 * p)


def punch(u, m):
    left, right = _pulse(u, m), _pulse(u, m, math.pi)
    return Pose(l_shoulder=0.8 + 0.8 * left, l_elbow=2.0 * (1 - left), r_shoulder=0.8 + 0.8 * right,
                r_elbow=2.0 * (1 - right), l_hip=0.15, r_hip=0.15)


def kick(u, m):
    p = _pulse(u, m)
    return Pose(l_shoulder=1.2, r_shoulder=1.2, r_hip=0.05 + 1.3 * p, r_knee=0.6 * (1 - p) * p * 4, lean=-0.15 * p)


def bend(u, m):
    p = _osc(u, m)
    return Pose(lean=0.45 * p, l_shoulder=0.15 - 0.3 * p, r_shoulder=0.15 + 0.3 * p)


def jump(u, m):
    air = max(0.0, math.sin(TAU * m.cycles * u + m.phase))
    crouch = max(0.0, -math.sin(TAU * m.cycles * u + m.phase))
    return Pose(l_shoulder=0.3 + 2.2 * air, r_shoulder=0.3 + 2.2 * air, l_knee=1.2 * crouch, r_knee=1.2 * crouch,
                l_hip=0.05 + 0.5 * crouch, r_hip=0.05 + 0.5 * crouch, dy=0.18 * air - 0.08 * crouch)


def _walk_cycle(u, m, direction: float, travel: bool, lift: float = 1.0):
    a = _osc(u, m)
    left_up, right_up = max(0.0, a), max(0.0, -a)
    dx = direction * m.walk_speed * (u - 0.5) if travel else 0.0
    return Pose(l_hip=0.05 + 0.5 * lift * left_up, l_knee=1.3 * lift * left_up, r_hip=0.05 + 0.5 * lift * right_up,
                r_knee=1.3 * lift * right_up, l_shoulder=0.25 + 0.35 * right_up, r_shoulder=0.25 + 0.35 * left_up,
                l_elbow=0.5, r_elbow=0.5, dx=dx, dy=0.02 * abs(a))  # no lean: a still frame shows no direction


def walk_left(u, m):
    return _walk_cycle(u, m, -1.0, True)


def walk_right(u, m):
    return _walk_cycle(u, m, 1.0, True)


def march(u, m):
    return _walk_cycle(u, m, 0.0, False, lift=1.4)


def box(u, m):
    left, right = _pulse(u, m), _pulse(u, m, math.pi)
    return Pose(l_shoulder=1.0 + 0.6 * left, l_elbow=2.3 * (1 - left), r_shoulder=1.0 + 0.6 * right,
                r_elbow=2.3 * (1 - right), lean=0.15 * (left - right), l_hip=0.2, r_hip=0.2, l_knee=0.3, r_knee=0.3)


def swing_arms(u, m):
    a = _osc(u, m)
    return Pose(l_shoulder=0.9 + 0.9 * a, r_shoulder=0.9 - 0.9 * a, l_elbow=0.2, r_elbow=0.2)


# ---- one-way actions and their time-reversed partners ----
def sit_down(u, m):
    p = _span(u, m)
    return Pose(l_hip=0.05 + 1.0 * p, r_hip=0.05 + 1.0 * p, l_knee=2.0 * p, r_knee=2.0 * p, dy=-0.22 * p,
                l_shoulder=0.15 + 0.9 * p, r_shoulder=0.15 + 0.9 * p, l_elbow=0.1 + 0.6 * p, r_elbow=0.1 + 0.6 * p)


def stand_up(u, m):
    return sit_down(1 - u, m)


def raise_arms(u, m):
    p = _span(u, m)
    return Pose(l_shoulder=0.15 + 2.8 * p, r_shoulder=0.15 + 2.8 * p, l_elbow=0.1, r_elbow=0.1)


def lower_arms(u, m):
    return raise_arms(1 - u, m)


ACTIONS: dict[str, Callable[[float, Motion], Pose]] = {
    "wave": wave, "clap": clap, "jumping_jack": jumping_jack, "squat": squat, "punch": punch, "kick": kick,
    "bend": bend, "jump": jump, "walk_left": walk_left, "walk_right": walk_right, "sit_down": sit_down,
    "stand_up": stand_up, "raise_arms": raise_arms, "lower_arms": lower_arms, "march": march, "box": box,
    "swing_arms": swing_arms,
}
ONE_WAY = {"sit_down", "stand_up", "raise_arms", "lower_arms"}
# pairs that only temporal order (or direction) separates
TEMPORAL_PAIRS = [("sit_down", "stand_up"), ("raise_arms", "lower_arms"), ("walk_left", "walk_right")]


@dataclass(frozen=True)
class Body:
    """Proportions (in body heights), colours (RGB) and line thickness (fraction of height) of one actor."""

    torso: float = 0.30
    neck: float = 0.05
    head: float = 0.065
    shoulder: float = 0.09
    hip: float = 0.05
    upper_arm: float = 0.15
    forearm: float = 0.14
    thigh: float = 0.22
    shin: float = 0.22
    thickness: float = 0.04
    skin: tuple[int, int, int] = (230, 190, 160)
    shirt: tuple[int, int, int] = (40, 90, 200)
    trousers: tuple[int, int, int] = (50, 50, 60)


def random_body(rng: np.random.Generator) -> Body:
    """An actor: proportions, thickness and colours drawn independently of any action."""
    k = rng.uniform(0.9, 1.1, size=6)

    def colour():
        return tuple(int(c) for c in rng.integers(20, 236, size=3))

    thickness = 0.05 * k[5] * rng.uniform(0.9, 1.2)
    return Body(torso=0.30 * k[0], upper_arm=0.15 * k[1], forearm=0.14 * k[1], thigh=0.22 * k[2],
                shin=0.22 * k[2], shoulder=0.09 * k[3], head=0.065 * k[4], thickness=thickness,
                skin=colour(), shirt=colour(), trousers=colour())


def joints(pose: Pose, body: Body) -> dict[str, tuple[float, float]]:
    """Joint positions in body heights, x right and y up, the hip centre at (dx, height of legs + dy)."""
    legs = body.thigh + body.shin
    hx, hy = pose.dx, legs + pose.dy
    # torso axis: up, tilted by lean
    ux, uy = math.sin(pose.lean), math.cos(pose.lean)
    px, py = uy, -ux  # perpendicular, to the figure's right
    neck = (hx + ux * body.torso, hy + uy * body.torso)
    head = (neck[0] + ux * (body.neck + body.head), neck[1] + uy * (body.neck + body.head))
    pts = {"hip": (hx, hy), "neck": neck, "head": head}

    def limb(root, side, a1, a2, l1, l2, name):
        # "down" along the torso axis, rotated outwards by a1 on this side, the lower segment by a further a2
        down = math.atan2(-uy, -ux)
        ang1 = down + side * a1
        mid = (root[0] + l1 * math.cos(ang1), root[1] + l1 * math.sin(ang1))
        ang2 = ang1 + side * a2
        end = (mid[0] + l2 * math.cos(ang2), mid[1] + l2 * math.sin(ang2))
        pts[name + "_root"], pts[name + "_mid"], pts[name + "_end"] = root, mid, end

    # the figure faces the camera: its left side is on the image right (side +1 rotates towards +x)
    for side, s_name in ((1, "l"), (-1, "r")):
        sh = (neck[0] + side * px * body.shoulder, neck[1] + side * py * body.shoulder)
        hp = (hx + side * px * body.hip, hy + side * py * body.hip)
        a_sh, a_el = getattr(pose, f"{s_name}_shoulder"), getattr(pose, f"{s_name}_elbow")
        a_hip, a_kn = getattr(pose, f"{s_name}_hip"), getattr(pose, f"{s_name}_knee")
        # angles rotate outwards: for the left side (image right) that is counter-clockwise from down
        limb(sh, side, a_sh, a_el, body.upper_arm, body.forearm, f"{s_name}_arm")
        limb(hp, side, a_hip, -a_kn, body.thigh, body.shin, f"{s_name}_leg")
    return pts


def pose_at(action: str, u: float, motion: Motion) -> Pose:
    if action not in ACTIONS:
        raise KeyError(f"unknown action {action!r}; known: {sorted(ACTIONS)}")
    return ACTIONS[action](u, motion)
