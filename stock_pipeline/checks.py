"""Asset checks on stored bars (filled in by the automation and operations work)."""

import dagster as dg

ASSET_CHECKS: list[dg.AssetChecksDefinition] = []
