"""This machine: child processes that re-enter through python -m fnrun exec (child), CPU and memory
limits as a pod would have them, local deploy of serving functions and local image builders.

May import: the layers below runtimes (and functions/ for the kinds' types and factory).
"""
