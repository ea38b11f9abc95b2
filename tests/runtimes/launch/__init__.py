"""Tests of fnrun.runtimes.launch."""
