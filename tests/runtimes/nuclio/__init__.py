"""Tests of fnrun.runtimes.nuclio."""
