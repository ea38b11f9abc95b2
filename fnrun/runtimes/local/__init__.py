"""This machine: child processes that re-enter through python -m fnrun exec (child), CPU and memory
limits as a pod would have them, local deploy of serving functions and local image builders.

May import: progress/, platforms and the layers below runtimes.
"""
