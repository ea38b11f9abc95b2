"""This machine: child processes that re-enter through python -m fnrun exec (child), started from
a pre-imported interpreter where they can be (forkserver), CPU and memory
limits as a pod would have them, local deploy of serving functions and local image builders.

May import: progress/, platforms and the layers below runtimes.
"""
