"""Tests of fnrun.runtimes.local."""
