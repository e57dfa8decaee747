"""Initial schema: runners, imports, runs, sitting days, pain reports, check-ins, exercises.

Times are UTC (``*_utc``); the application stores them naive on SQLite.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('runners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('hr_rest_bpm', sa.Float(), nullable=True),
    sa.Column('hr_max_bpm', sa.Float(), nullable=True),
    sa.Column('sex', sa.String(length=8), nullable=True),
    sa.Column('created_utc', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name')
    )
    op.create_table('checkins',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runner_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('sleep_s', sa.Float(), nullable=True),
    sa.Column('sleep_quality', sa.Integer(), nullable=True),
    sa.Column('stress', sa.Integer(), nullable=True),
    sa.Column('work_sitting_s', sa.Float(), nullable=True),
    sa.Column('work_standing_s', sa.Float(), nullable=True),
    sa.Column('lifting', sa.String(length=8), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['runner_id'], ['runners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('runner_id', 'date', name='uq_checkins_runner_date')
    )
    op.create_table('exercise_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runner_id', sa.Integer(), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('sets', sa.Integer(), nullable=True),
    sa.Column('duration_s', sa.Float(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['runner_id'], ['runners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('exercise_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_exercise_sessions_runner_date', ['runner_id', 'date'], unique=False)

    op.create_table('imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runner_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('path', sa.String(length=1024), nullable=True),
    sa.Column('imported_utc', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['runner_id'], ['runners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('runner_id', 'sha256', name='uq_imports_runner_sha256')
    )
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imports_runner_id'), ['runner_id'], unique=False)

    op.create_table('pain_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runner_id', sa.Integer(), nullable=False),
    sa.Column('reported_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=False),
    sa.Column('location', sa.String(length=24), nullable=False),
    sa.Column('timing', sa.String(length=24), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['runner_id'], ['runners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('pain_reports', schema=None) as batch_op:
        batch_op.create_index('ix_pain_reports_runner_date', ['runner_id', 'local_date'], unique=False)

    op.create_table('runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runner_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('fit_import_id', sa.Integer(), nullable=True),
    sa.Column('analysis_import_id', sa.Integer(), nullable=True),
    sa.Column('start_utc', sa.DateTime(timezone=True), nullable=False),
    sa.Column('local_date', sa.Date(), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=True),
    sa.Column('rpe', sa.Float(), nullable=True),
    sa.Column('avg_hr_bpm', sa.Float(), nullable=True),
    sa.Column('max_hr_bpm', sa.Float(), nullable=True),
    sa.Column('trimp_au', sa.Float(), nullable=True),
    sa.Column('trimp_hr_rest_bpm', sa.Float(), nullable=True),
    sa.Column('trimp_hr_max_bpm', sa.Float(), nullable=True),
    sa.Column('cadence_spm', sa.Float(), nullable=True),
    sa.Column('vertical_oscillation_m', sa.Float(), nullable=True),
    sa.Column('stance_time_s', sa.Float(), nullable=True),
    sa.Column('stance_time_balance_left_pct', sa.Float(), nullable=True),
    sa.Column('step_length_m', sa.Float(), nullable=True),
    sa.Column('steps_n', sa.Integer(), nullable=True),
    sa.Column('impact_index_mean', sa.Float(), nullable=True),
    sa.Column('mechanical_load_au', sa.Float(), nullable=True),
    sa.Column('heel_strike_share', sa.Float(), nullable=True),
    sa.Column('trunk_lean_fwd_deg', sa.Float(), nullable=True),
    sa.Column('trunk_lean_fwd_drift_deg', sa.Float(), nullable=True),
    sa.Column('recording_path', sa.String(length=1024), nullable=True),
    sa.Column('fit_path', sa.String(length=1024), nullable=True),
    sa.Column('analysis_summary', sa.JSON(), nullable=True),
    sa.Column('extra', sa.JSON(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_utc', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['analysis_import_id'], ['imports.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fit_import_id'], ['imports.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['runner_id'], ['runners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.create_index('ix_runs_runner_date', ['runner_id', 'local_date'], unique=False)

    op.create_table('sitting_days',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('runner_id', sa.Integer(), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('sitting_s', sa.Float(), nullable=False),
    sa.Column('bouts_ge_30min', sa.Integer(), nullable=False),
    sa.Column('bouts_ge_2h', sa.Integer(), nullable=False),
    sa.Column('longest_sitting_s', sa.Float(), nullable=False),
    sa.Column('breaks_per_sitting_h', sa.Float(), nullable=True),
    sa.Column('wear_s', sa.Float(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['runner_id'], ['runners.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('runner_id', 'date', name='uq_sitting_days_runner_date')
    )


def downgrade() -> None:
    op.drop_table('sitting_days')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_index('ix_runs_runner_date')

    op.drop_table('runs')
    with op.batch_alter_table('pain_reports', schema=None) as batch_op:
        batch_op.drop_index('ix_pain_reports_runner_date')

    op.drop_table('pain_reports')
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imports_runner_id'))

    op.drop_table('imports')
    with op.batch_alter_table('exercise_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_exercise_sessions_runner_date')

    op.drop_table('exercise_sessions')
    op.drop_table('checkins')
    op.drop_table('runners')
