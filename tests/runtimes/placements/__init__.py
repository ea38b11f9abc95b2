"""Tests of fnrun.runtimes.placements."""
