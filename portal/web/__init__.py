"""Shared web helpers: pagination, exports, dashboards and the pages every member sees."""
