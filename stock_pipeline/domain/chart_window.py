"""How much of a symbol's history a chart shows when not told (no pandas: the CLI's help
text reads these at start-up)."""

DEFAULT_SESSIONS = 5  # intraday: the last trading week
DEFAULT_DAYS = 365  # daily and weekly: the last year
