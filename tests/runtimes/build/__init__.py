"""Tests of fnrun.runtimes.build."""
