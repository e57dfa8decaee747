"""Conventions used everywhere in backstride: units, frames, column names, placements.

This module is the one page that states them; every other module imports from here.

Units (SI inside, always)
-------------------------
=============  ===========  ==============================================
quantity       unit         note
=============  ===========  ==============================================
acceleration   m/s²         specific force as an accelerometer reports it
                            (gravity included: a sensor lying still reads
                            +9.81 m/s² along the axis pointing up)
angular rate   rad/s
magnetic field µT
time           s            seconds from the recording's first sample;
                            the absolute start is ``start_utc`` (UTC)
angle          rad inside,  degrees only in reported values whose name
               degrees out  ends in ``_deg``
=============  ===========  ==============================================

Every name that carries a unit ends in it: ``window_s``, ``cutoff_hz``,
``threshold_deg``, ``sampling_rate_hz``.  The sampling rate travels with the
recording and is never a default argument.

Frames
------
*Sensor frame*: the axes printed on the sensor, columns ``acc_x``, ``acc_y``,
``acc_z``, ``gyr_x``... as recorded.

*Body frame*: x forward (direction of travel), y left, z up (right-handed).
Columns ``acc_fwd``, ``acc_left``, ``acc_up`` (and ``gyr_*``).  The body frame
is found from the recording itself (:mod:`analysis.alignment`); nobody types
an axis.

Sign table in the body frame (right-hand rule):

===========================  ===================================
movement                     sign
===========================  ===================================
trunk leans forward          pitch about +y positive → ``trunk_lean_fwd_deg`` > 0
trunk leans to the left      ``trunk_lean_side_deg`` > 0
shoe toe up at contact       ``strike_angle_deg`` > 0 (rearfoot)
foot pitches toe-down        ``gyr_left`` > 0
===========================  ===================================

*World frame*: z up (gravity along −z in free acceleration), heading arbitrary.
"""

from __future__ import annotations

GRAVITY_M_S2 = 9.80665

ACC_COLS = ("acc_x", "acc_y", "acc_z")
GYR_COLS = ("gyr_x", "gyr_y", "gyr_z")
MAG_COLS = ("mag_x", "mag_y", "mag_z")
SENSOR_COLS = ACC_COLS + GYR_COLS + MAG_COLS

BODY_ACC_COLS = ("acc_fwd", "acc_left", "acc_up")
BODY_GYR_COLS = ("gyr_fwd", "gyr_left", "gyr_up")

#: SI unit of each channel kind, as written in files.
SI_UNITS = {"acc": "m/s^2", "gyr": "rad/s", "mag": "uT"}

PLACEMENTS = ("lower-back", "foot-left", "foot-right", "thigh-left", "thigh-right", "chest")
FOOT_PLACEMENTS = ("foot-left", "foot-right")
TRUNK_PLACEMENTS = ("lower-back", "chest")

# ----------------------------------------------------------------------------
# Plausibility limits for recordings (readers reject values outside them).
MIN_SAMPLING_RATE_HZ = 10.0
MAX_SAMPLING_RATE_HZ = 2000.0
#: Commodity IMUs saturate at ±16 g; 50 g (490 m/s²) cannot be a human movement.
MAX_ABS_ACC_M_S2 = 50 * GRAVITY_M_S2
#: ±4000 deg/s is beyond any commercial gyroscope range.
MAX_ABS_GYR_RAD_S = 70.0
#: The longest span one recording covers, received or lost: a month of wear.  A sample counter or time that jumps
#: further is corrupt (the all-day analysis counts every second of the span: a jump of 1e9 s took 22 GB).
MAX_RECORDING_SPAN_S = 31 * 86400.0
#: Start times the analysis can count in (pandas' nanosecond timestamps: 1677-09-21 to 2262-04-11), a year inside.
#: BIDS-Motion's de-identified dates lie in 1925 or earlier (BIDS: "shifted ... to 1925 or earlier"): still inside.
EARLIEST_START_YEAR = 1678
LATEST_START_YEAR = 2261

# Saturation: a movement beyond the sensor's range reads the range's end.  Commodity IMUs offer these full scales
# (MEMS datasheets: accelerometers ±2/4/8/16/32 g, gyroscopes ±125 ... ±4000 °/s).  An axis saturates at one of
# them when its largest magnitude lies there (from 1.5 % below to 3 % above: calibration moves a clipped raw value a
# little), at least 3 separate peaks (50 ms apart) reach it, and more peaks reach it than lie in the 4.5 % under it:
# real peak heights thin out toward the largest, clipped ones pile up (analysis.signals.saturated_axes).  Measured
# on the shared data (bench/saturation.py, session 17): gaitmap_example's shoes read ±16 g at 5 and 6 impacts, with
# 2 and 3 peaks in the band under it: reported; ipol_gait (Xsens MTw, ±16 g and ±2000 °/s) has 27 recordings whose
# largest magnitude falls near 2 or 4 g or 125-500 °/s by chance, with 1 or 2 peaks there or as many under it (the
# nearest misses: 3 at / 3 under, 5 at / 6 under): not reported; mobgap_lab and adept_running: none near a full
# scale.
ACC_FULL_SCALES_G = (2.0, 4.0, 8.0, 16.0, 32.0)
GYR_FULL_SCALES_DPS = (125.0, 250.0, 500.0, 1000.0, 2000.0, 4000.0)
SATURATION_BELOW = 0.015
SATURATION_ABOVE = 0.03
SATURATION_BAND = 0.06
SATURATION_MIN_PEAKS = 3
SATURATION_PEAK_GAP_S = 0.05

# ----------------------------------------------------------------------------
# Foot-strike classification (Altman & Davis 2012, Gait Posture 35:298-300):
# strike angle > 8° rearfoot, < -1.6° forefoot, midfoot between.
REARFOOT_THRESHOLD_DEG = 8.0
FOREFOOT_THRESHOLD_DEG = -1.6
#: Half-width of the "indeterminate" band around each threshold.  Sized to the
#: median absolute strike-angle error measured in bench/validate.py on the
#: gaitmap example (motion capture); see bench/RESULTS.md.
STRIKE_INDETERMINATE_BAND_DEG = 2.0

# Lower-back impact index (an indicator, analysis.pipeline.impact_index): the steepest rise of vertical specific
# force after IC, read in one fixed band so that recordings at different rates compare: low-passed at 20 Hz,
# interpolated (band-limited) to 400 Hz before differentiating.  Below 2.5x the cutoff (50 Hz) the band is not
# recorded and the index is not given.  Measured (bench, session 14): simulated run 52.2 / 51.2 / 51.8 / 52.2 /
# 52.6 g/s at 50 / 64 / 100 / 128 / 200 Hz (the former 25-Hz-or-less filter and 2-sample slope: 34.5 ... 67.0);
# adept_running hip resampled 100 -> 64 -> 50 Hz: 109.4 / 112.2 / 114.3 g/s (former 105.7 / 52.5 / 55.9).
IMPACT_CUTOFF_HZ = 20.0
IMPACT_MIN_RATE_HZ = 2.5 * IMPACT_CUTOFF_HZ
IMPACT_SLOPE_RATE_HZ = 400.0

# Low sampling rates (measured on the simulator, session 20: a 60-s run, landing 11 deg, contact 260 ms, flight 88 ms).
#: Below this the shoe's strike angle is not given: the landing's toe-up turn spans a sample or two (11 deg read
#: 0.8 / 7.9 / 9.5 / 9.9 / 10.3 deg at 10 / 12.5 / 20 / 25 / 100 Hz; gaitmap_example's walks at 25 Hz: 0.7 deg error).
STRIKE_MIN_RATE_HZ = 20.0
#: Below this the contact and flight times of running steps are coarse, and said so: a sample is 20 ms or more of a
#: 90-ms flight (lower back: flight 14 / 57 / 66 / 84 / 88 ms and contact 315 / 296 / 287 / 269 / 265 ms at
#: 10 / 20 / 25 / 50 / 100 Hz).
RUNNING_TIMES_MIN_RATE_HZ = 50.0

# Plausibility of the figures: a recording whose declared sampling rate is wrong (or whose rows are written twice)
# stretches every time by the same factor, and its steps come out as no runner runs (fuzzing, session 20: 100 Hz
# declared as 51.2 Hz read running at 87 steps/min, 614 ms of contact and 27 cm of vertical oscillation; as 30 Hz,
# walking with 81 cm).  Runners run at 150-200 steps/min (slow joggers near 140) with 5-12 cm of vertical oscillation
# at the sacrum; walking moves it 2-6 cm.  Outside these bounds the report asks whether the rate is right.
RUNNING_CADENCE_RANGE_SPM = (120.0, 240.0)
MAX_VERTICAL_OSCILLATION_M = 0.20

# Form under fatigue: change from the first to the last fifth of a running bout.
FATIGUE_FRACTION = 0.2
#: A bout shorter than this is compared but never flagged: its fifths are a start and a stop, not a run long enough
#: to tire (adept_running's 8-9 s bursts between walks: the first fifth speeding up from a walk, the last slowing
#: down, cadence 157 -> 122 steps/min; its bouts of 85-290 s change by less than every threshold).
FATIGUE_MIN_FLAG_BOUT_S = 60.0
#: Flag thresholds for the early→late change of each per-step metric.  Stated,
#: not tuned: a change larger than these is beyond the step-to-step spread
#: reported for healthy runners (cadence ±3 %, contact time ±5 %, trunk lean 2°).
FATIGUE_FLAG_THRESHOLDS = {
    "cadence_spm": 5.0,  # steps/min
    "contact_time_s": 0.015,
    "flight_time_s": 0.015,
    "step_time_s": 0.02,
    "vertical_oscillation_m": 0.01,
    "impact_index": 0.25,  # relative change (fraction), see analysis.gait
    "trunk_lean_fwd_deg": 2.0,
    "trunk_lean_side_deg": 2.0,
    "strike_angle_deg": 3.0,
}

#: How reports show each per-step column: its name, the unit shown, the factor from the column's SI unit to that
#: unit, and the digits (the text report of ``backstride analyse`` and the dashboard both read this table).
METRIC_DISPLAY = {
    "cadence_spm": ("cadence", "steps/min", 1.0, 0),
    "step_time_s": ("step time", "ms", 1000.0, 0),
    "contact_time_s": ("contact time", "ms", 1000.0, 0),
    "flight_time_s": ("flight time", "ms", 1000.0, 0),
    "vertical_oscillation_m": ("vertical oscillation", "cm", 100.0, 1),
    "impact_index": ("impact index", "g/s", 1.0, 1),
    "strike_angle_deg": ("foot-strike angle", "°", 1.0, 1),
    "trunk_lean_fwd_deg": ("trunk lean forward", "°", 1.0, 1),
    "trunk_lean_side_deg": ("trunk lean sideways (+left)", "°", 1.0, 1),
}

REPORT_SCHEMA = "backstride.analysis/1"
RECORDING_SCHEMA = "backstride.recording/1"
