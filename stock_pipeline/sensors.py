"""Sensors (filled in by the automation work)."""

import dagster as dg

SENSORS: list[dg.SensorDefinition] = []
