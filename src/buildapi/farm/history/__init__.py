"""Write a consistent farm past into both databases fast, with bulk inserts."""

from buildapi.farm.history.run import HistoryStats, write_history

__all__ = ["HistoryStats", "write_history"]
