"""Tests of fnrun.runtimes.functions."""
