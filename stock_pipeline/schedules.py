"""Schedules on the NYSE calendar (filled in by the automation work)."""

import dagster as dg

SCHEDULES: list[dg.ScheduleDefinition] = []
