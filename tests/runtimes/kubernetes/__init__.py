"""Tests of fnrun.runtimes.kubernetes."""
