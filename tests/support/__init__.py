"""Support code shared by several test modules, one topic per module (no tests here)."""
