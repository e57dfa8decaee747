"""Named thresholds of the all-day posture analysis (:mod:`analysis.activity`, :mod:`analysis.days`).

Each constant says where it comes from: a published rule, a physical
argument, or (marked *chosen*) a design choice that was not fitted to any
data set.  Accelerations in g are relative to :data:`analysis.constants.GRAVITY_M_S2`.
"""

from __future__ import annotations

# ----------------------------------------------------------------------------
# Time base
#: Feature bin: means and variances are accumulated per half second (chunk
#: boundaries fall on bin boundaries, so chunked analysis equals one pass).
BIN_S = 0.5
#: Classification epoch (the issue asks for one label per second).
EPOCH_S = 1.0
#: An epoch with fewer received samples than this fraction of the expected
#: number is "unknown" (a gap), never a posture.
MIN_EPOCH_COVERAGE = 0.5

# ----------------------------------------------------------------------------
# Movement intensity: standard deviation of the acceleration magnitude over 1 s.
#: Below this the body is still (lying, sitting, standing).  Chosen above the
#: sensor noise and breathing (a still waist sensor reads 0.002–0.01 g).
STILL_MAX_G = 0.05
#: Walking produces 0.15–0.5 g at the waist (one vertical impact per step);
#: sustained movement above this is gait.
GAIT_MIN_G = 0.12
#: Gait must last this long (about 4 steps at a normal cadence); shorter
#: bursts are posture changes or fidgeting and keep the posture around them.
GAIT_MIN_S = 4.0
#: Running has a flight phase in which the sensor is close to free fall; a
#: sample below this magnitude is "in flight" (same value as the lower-back
#: gait detector, :class:`analysis.gait.LowerBackGait` ``flight_g``).
FLIGHT_G = 0.45
#: A gait second is running when at least this fraction of its samples is in
#: flight (walking never leaves the ground; running spends ~30 % in flight).
RUN_FLIGHT_FRACTION = 0.05
#: Burst of movement that marks a posture transition (sit-to-stand etc.).
TRANSITION_MIN_G = 0.03
#: Longest plausible sit-to-stand or stand-to-sit (Sit2Stand literature: 1–4 s,
#: older adults up to 6 s).
TRANSITION_MAX_S = 6.0
#: Half-width of the window, around a posture change, searched for the burst.
TRANSITION_SEARCH_S = 5.0

# ----------------------------------------------------------------------------
# Walking bouts from steps (lower back).  Short, slow bouts stay under the
# intensity rule above (GAIT_MIN_G for GAIT_MIN_S); the step detector of the
# running analysis (:class:`analysis.gait.LowerBackGait`, via
# :func:`analysis.pipeline.analyse`) finds their steps, and walking bouts are
# assembled from them with the Mobilise-D rules (Kluge et al. 2021, PLoS ONE
# 16:e0254999; Micó-Amigo et al. 2023, J NeuroEng Rehabil 20:78; the
# ``"mobilised"`` defaults of mobgap's StrideSelection / WbAssembly).
#: A stride (one IC to the next IC of the same foot, i.e. two steps on) is
#: plausible when its duration lies in this range (mobgap: 0.2–3.0 s).
WB_STRIDE_MIN_S = 0.2
WB_STRIDE_MAX_S = 3.0
#: A walking bout needs at least this many plausible strides (mobgap
#: ``NStridesCriteria(min_strides=4)``; counted over both feet, so 6 steps).
WB_MIN_STRIDES = 4
#: Strides separated by a break of at most this long are one bout (mobgap
#: ``MaxBreakCriteria(max_break_s=3)``); the break counts as walking.
WB_MAX_BREAK_S = 3.0

# ----------------------------------------------------------------------------
# Postures from the inclination of the sensor's gravity direction relative to
# the upright direction learnt while walking.
#: Thigh: inclination above 45° is sitting (or lying); below it standing.
#: The classic thigh-inclinometer rule (activPAL; Skotte et al. 2014, MSSE 46:1880).
THIGH_SIT_MIN_DEG = 45.0
#: Lower back: the trunk within 30° of horizontal is lying.
TRUNK_LYING_MIN_DEG = 60.0
#: Lower back: the pelvis tilts back by about 20–30° when one sits down
#: (posterior pelvic tilt; e.g. De Carvalho et al. 2010, Spine 35:E1043 report
#: sitting lumbar flexion of this order); half of that is the centre of the
#: (weak) absolute-tilt cue for sitting.  (On UCI HAPT the per-person medians
#: are 2–16° standing and 8–38° sitting: they overlap, which is why the
#: transitions carry most of the sit/stand decision.)
#: Looked at on HAPT: re-chosen per fold in the held-out runs of
#: ``bench/validate_activity.py`` (``HELD_OUT_GRID``; figures in bench/RESULTS.md).
TRUNK_SIT_INCL_DEG = 12.0

# ----------------------------------------------------------------------------
# Lower back, sit vs stand from the transitions (evidence on the posture that
# follows; Adamowicz et al. 2020, Sensors 20:6669, the method of SKDH's
# Sit2Stand; Pham et al. 2018, Front Neurol 9:652): a sit-to-stand raises the
# pelvis and a stand-to-sit lowers it.  Vertical acceleration is the
# acceleration magnitude minus its rest level (orientation-free: linear
# acceleration across gravity adds only a second-order term), integrated twice
# over the movement burst with the velocity forced to zero at both ends.
#: Expected pelvis height change of a sit/stand transition.  Physical: the
#: sensor (L5) is at about 0.55 × stature standing (≈ 0.95 m) and at seat
#: height + ~0.15 m sitting (≈ 0.6 m): 0.3–0.4 m; the drift-removed double
#: integral underestimates it a little, so *chosen* 0.30 m.
TRANSITION_HEIGHT_M = 0.30
#: Its spread (person, chair height, integration error).  *Chosen* wide.
TRANSITION_HEIGHT_SD_M = 0.12
#: The pelvis tilts back by about this much on sitting down (posterior pelvic
#: tilt, De Carvalho et al. 2010) and forward again on standing up: expected
#: change of the inclination across a transition, and its spread.
TRANSITION_TILT_DEG = 20.0
TRANSITION_TILT_SD_DEG = 10.0
#: Share of people whose pelvis tilt hardly changes between sitting and
#: standing (HAPT user 9: 8.5° vs 8.4°): the tilt change of a transition is a
#: mixture, ± TRANSITION_TILT_DEG or about none.  *Chosen*.
UPRIGHT_SITTER_SHARE = 0.3
#: Posture shifts within the same posture (fidgeting, shifting weight) change
#: the inclination by a few degrees: spread of that change.  *Chosen*.
SAME_TILT_SD_DEG = 6.0
#: Share of bursts whose double-integrated height change is meaningless (a
#: fidget or settling inside the window, a rest level off by the accelerometer's
#: gain error; stand-to-sit integrates worse than sit-to-stand, as the Sit2Stand
#: literature also finds): the height likelihoods are mixtures of the model
#: above (1 − share) and a broad part (share), so that no single burst adds more
#: than a few nats.  *Chosen* (a robust-likelihood convention, not fitted).
#: Written after studying the HAPT errors; held-out runs as for ``TRUNK_SIT_INCL_DEG``.
EVIDENCE_FAILURE_SHARE = 0.2
#: Spread of that broad part: any plausible displacement of the sensor.
TRANSITION_HEIGHT_FAIL_SD_M = 0.5
#: ... and, for the tilt change within one posture (leaning back in a chair,
#: slouching: up to ~40° without standing up), the spread of its broad part.
#: *Chosen* (physical range, not fitted).
SAME_TILT_FAIL_SD_DEG = 30.0
#: Prior log-odds of sitting over standing for a still period that follows
#: lying: getting up from lying goes through sitting up (at the bed's edge) in
#: most cases, and a person who ends up standing usually walks off; log 3 ≈ 1.1
#: (three to one).  *Chosen*, a behavioural prior, not validated on free-living
#: data.  Transitions out of lying carry no usable height change (the 90° turn),
#: so without it a sitting period entered from lying rests on its tilt alone.
#: Written after studying the HAPT errors; held-out runs as for ``TRUNK_SIT_INCL_DEG``.
AFTER_LYING_SIT_NATS = 1.1
#: A change of the gravity direction of at least this much from one second
#: to the next is a movement burst even when the acceleration hardly
#: varies (a slow sit-down).  *Chosen*: well above posture sway at rest (< 1°/s).
#: (4° and 8° were tried on HAPT; held-out runs as for ``TRUNK_SIT_INCL_DEG``.)
TURN_BREAK_DEG = 8.0
#: A burst between two still periods longer than this is not one transition
#: (no evidence taken from it: the double integral drifts with time²).
LINK_MAX_S = 8.0
#: The double integral runs from this long before the burst to this long
#: after it (inside the still periods), so the slow start and end of a
#: transition, below the burst threshold, are counted.  *Chosen*.
LINK_PAD_S = 0.5
#: The absolute tilt from the walking upright is a weaker cue: its log-odds
#: for sitting are (tilt − TRUNK_SIT_INCL_DEG) / TILT_SCALE_DEG, capped at
#: ± TILT_CAP_NATS so that transition evidence outweighs it.  *Chosen*.
TILT_SCALE_DEG = 6.0
TILT_CAP_NATS = 1.5

#: activPAL's default minimum posture duration: a posture must last this long
#: to count as a new bout (shorter ones join the bout before).
MIN_POSTURE_S = 10.0

#: Slumped sitting: the pelvis tilted back more than this beyond the runner's
#: own upright sitting (the 10th percentile of their sitting tilt).  *Chosen*:
#: about twice the spread of a belt clip between days; not validated.
SLUMP_TILT_DEG = 10.0
SLUMP_REFERENCE_PERCENTILE = 10.0

# ----------------------------------------------------------------------------
# Sensor worn or not, moved or not.
#: Non-wear (van Hees et al. 2011, PLoS ONE 6:e22922): a 60-min window
#: (stepped by 1 min) is "no movement" when at least 2 of the 3 axes have a
#: standard deviation below 13 mg over the window.
NONWEAR_AXIS_STD_G = 0.013
NONWEAR_WINDOW_S = 60 * 60.0
NONWEAR_STEP_S = 60.0
#: ... and non-wear when such windows cover at least 90 min in a row (the
#: 90-min rule of Choi et al. 2011, MSSE 43:357).
NONWEAR_MIN_S = 90 * 60.0
#: Two walking bouts whose upright directions differ by more than this were
#: recorded with the sensor re-clipped or moved (e.g. belt to thigh).
MOUNT_CHANGE_DEG = 30.0
#: Only walking bouts at least this long are used to learn the mount (short
#: ones, stairs and shuffles, give a noisier upright).
MOUNT_MIN_WALK_S = 10.0
#: A gap at least this long may hide a re-clipped sensor: the mount is learnt
#: afresh after it.
REMOUNT_GAP_S = 10 * 60.0

# ----------------------------------------------------------------------------
# Days (DOMAIN.md: get up about every 30 min; 2 h in one go stiffens the back;
# 6–8 h of sitting a day)
BOUT_LONG_S = 30 * 60.0
BOUT_VERY_LONG_S = 2 * 3600.0
DAY_SITTING_FLAG_S = 6 * 3600.0
#: A valid day has at least 10 h of wear (Troiano et al. 2008, MSSE 40:181).
MIN_WEAR_DAY_S = 10 * 3600.0

ACTIVITIES = ("lying", "sitting", "standing", "walking", "running", "unknown")
UPRIGHT = ("standing", "walking", "running")
